// A fake Cloud AI 100 runtime library for tests: it exports the C symbols
// hw/aic/aic_runtime.cc binds, with the SDK's struct layouts, over a fake
// "program". Its programqpc.bin is text, one buffer per line:
//   <name> <ioType 1|2> <dataType> <size bytes> <partial 0|1>
// Running it: every bound input must be non-empty, every retained-state
// buffer (past_* / *_RetainedState) must be bound with size 0 (the card
// keeps it; QS_INVAL otherwise). The program keeps its own state across
// runs: sum += all i64 values of input_ids, calls += 1; every f32 output
// gets [sum, calls, first position_ids value, 0, 0, ...].
// fakeQaicLog() returns the calls made, one name per line.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hw/aic/qaic_c_types.h"

namespace {

using qeff::hw::aic::c::QAicBufferMappings;
using qeff::hw::aic::c::QAicIoBufferInfo;
using qeff::hw::aic::c::QBuffer;
using qeff::hw::aic::c::QData;

struct Program {
  std::vector<std::string> names;
  std::vector<QAicBufferMappings> maps;
  QAicIoBufferInfo info{};
  std::vector<QBuffer> bound;
  int64_t sum = 0, calls = 0;
  bool loaded = false, active = false;
  std::vector<uint8_t> desc = {1, 2, 3};
};

std::string g_log;
void Log(const char* s) { g_log += std::string(s) + "\n"; }

bool Retained(const std::string& n) {
  return n.rfind("past_", 0) == 0 ||
         (n.size() > 14 && n.compare(n.size() - 14, 14, "_RetainedState") == 0);
}

int g_context = 0, g_queue = 0;

}  // namespace

extern "C" {

const char* fakeQaicLog() { return g_log.c_str(); }

int32_t qaicCreateContext(void** ctx, void*, uint32_t n, const int32_t* devs,
                          void*, void*, void*, void*) {
  Log("qaicCreateContext");
  if (!ctx || n != 1 || !devs || devs[0] < 0) return 6;
  *ctx = &g_context;
  return 0;
}
int32_t qaicCreateQueue(void* ctx, void** q, void*, int32_t) {
  Log("qaicCreateQueue");
  if (ctx != &g_context || !q) return 6;
  *q = &g_queue;
  return 0;
}
int32_t qaicOpenQpcFile(void** qpc, const char* path) {
  Log("qaicOpenQpcFile");
  std::ifstream f(path);
  if (!f) return 5;
  auto* p = new Program();
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::string name;
    int io = 0, dt = 0, partial = 0;
    uint32_t size = 0;
    if (!(ls >> name >> io >> dt >> size >> partial)) continue;
    p->names.push_back(name);
    QAicBufferMappings m{};
    m.index = static_cast<uint32_t>(p->maps.size());
    m.ioType = io;
    m.dataType = dt;
    m.size = size;
    m.isPartialBufferAllowed = partial != 0;
    p->maps.push_back(m);
  }
  if (p->maps.empty()) {
    delete p;
    return 6;
  }
  for (size_t i = 0; i < p->maps.size(); ++i)
    p->maps[i].bufferName = const_cast<char*>(p->names[i].c_str());
  p->info.numBufferMappings = static_cast<uint32_t>(p->maps.size());
  p->info.bufferMappings = p->maps.data();
  *qpc = p;
  return 0;
}
int32_t qaicProgramPropertiesInitDefault(void* props) {
  Log("qaicProgramPropertiesInitDefault");
  if (!props) return 6;
  std::memset(props, 0, 64);
  return 0;
}
int32_t qaicCreateProgram(void* ctx, void** program, void* props, int32_t,
                          const char* name, void* qpc) {
  Log("qaicCreateProgram");
  if (ctx != &g_context || !program || !props || !name || !qpc) return 6;
  *program = qpc;
  return 0;
}
int32_t qaicLoadProgram(void* program) {
  Log("qaicLoadProgram");
  static_cast<Program*>(program)->loaded = true;
  return 0;
}
int32_t qaicRunActivationCmd(void* program, int32_t cmd) {
  Log(cmd == 0 ? "qaicRunActivationCmd(activate)"
               : "qaicRunActivationCmd(deactivate)");
  auto* p = static_cast<Program*>(program);
  if (!p->loaded) return 6;
  p->active = cmd == 0;
  return 0;
}
int32_t qaicProgramGetIoDescriptor(void* program, QData* d) {
  Log("qaicProgramGetIoDescriptor");
  auto* p = static_cast<Program*>(program);
  d->size = p->desc.size();
  d->data = p->desc.data();
  return 0;
}
int32_t qaicCreateExecObj(void* ctx, void** exec, const uint32_t* props,
                          void* program, const QData* iod, void*, void*) {
  Log("qaicCreateExecObj");
  auto* p = static_cast<Program*>(program);
  if (ctx != &g_context || !exec || !props || !iod || !iod->data || !p->active)
    return 6;
  *exec = program;
  return 0;
}
int32_t qaicProgramGetIoBufferInfo(void* program, QAicIoBufferInfo** info) {
  Log("qaicProgramGetIoBufferInfo");
  *info = &static_cast<Program*>(program)->info;
  return 0;
}
int32_t qaicExecObjSetData(void* exec, uint32_t n, const QBuffer* bufs) {
  Log("qaicExecObjSetData");
  auto* p = static_cast<Program*>(exec);
  if (n != p->maps.size() || !bufs) return 6;
  for (uint32_t i = 0; i < n; ++i) {
    const bool retained = Retained(p->names[i]);
    if (retained && bufs[i].size != 0) return 6;
    if (!retained && (bufs[i].size == 0 || !bufs[i].buf)) return 6;
    if (!retained && bufs[i].size > p->maps[i].size) return 6;
    if (!retained && bufs[i].size < p->maps[i].size &&
        !p->maps[i].isPartialBufferAllowed)
      return 6;
  }
  p->bound.assign(bufs, bufs + n);
  return 0;
}
int32_t qaicEnqueueExecObj(void* q, void* exec, void*) {
  Log("qaicEnqueueExecObj");
  auto* p = static_cast<Program*>(exec);
  if (q != &g_queue || p->bound.empty()) return 6;
  double pos = 0;
  for (size_t i = 0; i < p->maps.size(); ++i) {
    const QBuffer& b = p->bound[i];
    if (p->names[i] == "input_ids" && p->maps[i].dataType == 7)
      for (size_t k = 0; k + 8 <= b.size; k += 8) {
        int64_t v;
        std::memcpy(&v, b.buf + k, 8);
        p->sum += v;
      }
    if (p->names[i] == "position_ids" && p->maps[i].dataType == 7 &&
        b.size >= 8) {
      int64_t v;
      std::memcpy(&v, b.buf, 8);
      pos = static_cast<double>(v);
    }
  }
  ++p->calls;
  for (size_t i = 0; i < p->maps.size(); ++i) {
    const QBuffer& b = p->bound[i];
    if (p->maps[i].ioType != 2 || p->maps[i].dataType != 0 || b.size == 0)
      continue;
    std::vector<float> out(b.size / 4, 0.0f);
    if (!out.empty()) out[0] = static_cast<float>(p->sum);
    if (out.size() > 1) out[1] = static_cast<float>(p->calls);
    if (out.size() > 2) out[2] = static_cast<float>(pos);
    std::memcpy(b.buf, out.data(), out.size() * 4);
  }
  return 0;
}
int32_t qaicExecObjWaitForCompletion(void*, uint32_t) {
  Log("qaicExecObjWaitForCompletion");
  return 0;
}
int32_t qaicReleaseExecObj(void*) {
  Log("qaicReleaseExecObj");
  return 0;
}
int32_t qaicUnloadProgram(void* program) {
  Log("qaicUnloadProgram");
  static_cast<Program*>(program)->loaded = false;
  return 0;
}
int32_t qaicReleaseProgram(void*) {
  Log("qaicReleaseProgram");
  return 0;
}
int32_t qaicCloseQpc(void* qpc) {
  Log("qaicCloseQpc");
  delete static_cast<Program*>(qpc);
  return 0;
}
int32_t qaicReleaseQueue(void*) {
  Log("qaicReleaseQueue");
  return 0;
}
int32_t qaicReleaseContext(void*) {
  Log("qaicReleaseContext");
  return 0;
}

}  // extern "C"
