#include "hw/aic/aic_runtime.h"

#include <dlfcn.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "hw/aic/qaic_c_types.h"

namespace qeff::hw::aic {

struct RuntimeApi {
  void* handle = nullptr;
  c::QStatus (*createContext)(void**, void*, uint32_t, const int32_t*, void*,
                              void*, void*, void*) = nullptr;
  c::QStatus (*createQueue)(void*, void**, void*, int32_t) = nullptr;
  c::QStatus (*openQpcFile)(void**, const char*) = nullptr;
  c::QStatus (*programPropertiesInitDefault)(void*) = nullptr;
  c::QStatus (*createProgram)(void*, void**, void*, int32_t, const char*,
                              void*) = nullptr;
  c::QStatus (*loadProgram)(void*) = nullptr;
  c::QStatus (*runActivationCmd)(void*, int32_t) = nullptr;
  c::QStatus (*programGetIoDescriptor)(void*, c::QData*) = nullptr;
  c::QStatus (*createExecObj)(void*, void**, const uint32_t*, void*,
                              const c::QData*, void*, void*) = nullptr;
  c::QStatus (*programGetIoBufferInfo)(void*, c::QAicIoBufferInfo**) = nullptr;
  c::QStatus (*execObjSetData)(void*, uint32_t, const c::QBuffer*) = nullptr;
  c::QStatus (*enqueueExecObj)(void*, void*, void*) = nullptr;
  c::QStatus (*execObjWaitForCompletion)(void*, uint32_t) = nullptr;
  c::QStatus (*releaseExecObj)(void*) = nullptr;
  c::QStatus (*unloadProgram)(void*) = nullptr;
  c::QStatus (*releaseProgram)(void*) = nullptr;
  c::QStatus (*closeQpc)(void*) = nullptr;
  c::QStatus (*releaseQueue)(void*) = nullptr;
  c::QStatus (*releaseContext)(void*) = nullptr;
  ~RuntimeApi() {
    if (handle) ::dlclose(handle);
  }
};

namespace {

template <typename F>
absl::Status Bind(void* h, const char* name, F* fn,
                  const std::string& library) {
  void* p = ::dlsym(h, name);
  if (!p)
    return absl::FailedPreconditionError(
        absl::StrCat(library, ": the SDK runtime has no symbol ", name));
  *fn = reinterpret_cast<F>(p);
  return absl::OkStatus();
}

absl::Status Check(c::QStatus s, const char* call) {
  if (s == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("Cloud AI 100 runtime: ", call, " returned QStatus ", s));
}

// QEfficient's QAICInferenceSession skips these (the card keeps them).
bool IsRetained(const std::string& name) {
  return absl::StartsWith(name, "past_") ||
         absl::EndsWith(name, "_RetainedState");
}

}  // namespace

absl::StatusOr<std::shared_ptr<Runtime>> Runtime::Open(
    const std::string& library) {
  auto api = std::make_shared<RuntimeApi>();
  api->handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!api->handle) {
    const char* err = ::dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load the Cloud AI 100 runtime ", library, ": ",
                     err ? err : "dlopen failed"));
  }
  void* h = api->handle;
  absl::Status s;
  auto bind = [&](const char* name, auto* fn) {
    if (s.ok()) s = Bind(h, name, fn, library);
  };
  bind("qaicCreateContext", &api->createContext);
  bind("qaicCreateQueue", &api->createQueue);
  bind("qaicOpenQpcFile", &api->openQpcFile);
  bind("qaicProgramPropertiesInitDefault", &api->programPropertiesInitDefault);
  bind("qaicCreateProgram", &api->createProgram);
  bind("qaicLoadProgram", &api->loadProgram);
  bind("qaicRunActivationCmd", &api->runActivationCmd);
  bind("qaicProgramGetIoDescriptor", &api->programGetIoDescriptor);
  bind("qaicCreateExecObj", &api->createExecObj);
  bind("qaicProgramGetIoBufferInfo", &api->programGetIoBufferInfo);
  bind("qaicExecObjSetData", &api->execObjSetData);
  bind("qaicEnqueueExecObj", &api->enqueueExecObj);
  bind("qaicExecObjWaitForCompletion", &api->execObjWaitForCompletion);
  bind("qaicReleaseExecObj", &api->releaseExecObj);
  bind("qaicUnloadProgram", &api->unloadProgram);
  bind("qaicReleaseProgram", &api->releaseProgram);
  bind("qaicCloseQpc", &api->closeQpc);
  bind("qaicReleaseQueue", &api->releaseQueue);
  bind("qaicReleaseContext", &api->releaseContext);
  if (!s.ok()) return s;
  auto rt = std::shared_ptr<Runtime>(new Runtime());
  rt->api_ = std::move(api);
  return rt;
}

absl::StatusOr<std::unique_ptr<LoadedProgram>> Runtime::Load(
    const std::string& qpc_dir, int device_id) const {
  const RuntimeApi& a = *api_;
  std::unique_ptr<LoadedProgram> p(new LoadedProgram());
  p->api_ = api_;
  const int32_t dev = device_id;
  absl::Status s = Check(a.createContext(&p->context_, nullptr, 1, &dev,
                                         nullptr, nullptr, nullptr, nullptr),
                         "qaicCreateContext");
  if (!s.ok()) return s;
  s = Check(a.createQueue(p->context_, &p->queue_, nullptr, dev),
            "qaicCreateQueue");
  if (!s.ok()) return s;
  const std::string qpc = qpc_dir + "/programqpc.bin";
  s = Check(a.openQpcFile(&p->qpc_, qpc.c_str()), "qaicOpenQpcFile");
  if (!s.ok())
    return absl::Status(s.code(), absl::StrCat(qpc, ": ", s.message()));
  // QAicProgramProperties_t is opaque here: InitDefault fills it; 4 KiB is
  // far above its size.
  alignas(16) uint8_t props[4096] = {};
  s = Check(a.programPropertiesInitDefault(props),
            "qaicProgramPropertiesInitDefault");
  if (!s.ok()) return s;
  s = Check(
      a.createProgram(p->context_, &p->program_, props, dev, "qeff", p->qpc_),
      "qaicCreateProgram");
  if (!s.ok()) return s;
  s = Check(a.loadProgram(p->program_), "qaicLoadProgram");
  if (!s.ok()) return s;
  p->loaded_ = true;
  s = Check(a.runActivationCmd(p->program_, c::kActivateFull),
            "qaicRunActivationCmd");
  if (!s.ok()) return s;
  p->active_ = true;
  c::QData iod{0, nullptr};
  s = Check(a.programGetIoDescriptor(p->program_, &iod),
            "qaicProgramGetIoDescriptor");
  if (!s.ok()) return s;
  const uint32_t exec_props = 0;  // QAIC_EXECOBJ_PROPERTIES_DEFAULT
  s = Check(a.createExecObj(p->context_, &p->exec_, &exec_props, p->program_,
                            &iod, nullptr, nullptr),
            "qaicCreateExecObj");
  if (!s.ok()) return s;
  c::QAicIoBufferInfo* info = nullptr;
  s = Check(a.programGetIoBufferInfo(p->program_, &info),
            "qaicProgramGetIoBufferInfo");
  if (!s.ok()) return s;
  if (!info || (info->numBufferMappings > 0 && !info->bufferMappings))
    return absl::InternalError(
        "Cloud AI 100 runtime: qaicProgramGetIoBufferInfo gave no mappings");
  for (uint32_t i = 0; i < info->numBufferMappings; ++i) {
    const c::QAicBufferMappings& m = info->bufferMappings[i];
    Binding b;
    b.name = m.bufferName ? m.bufferName : "";
    b.index = m.index;
    b.io_type = m.ioType;
    b.size = m.size;
    b.partial_allowed = m.isPartialBufferAllowed;
    b.data_type = m.dataType;
    b.retained = IsRetained(b.name);
    if (b.index >= info->numBufferMappings)
      return absl::InternalError(absl::StrCat("Cloud AI 100 runtime: buffer '",
                                              b.name, "' has index ", b.index,
                                              " of ", info->numBufferMappings));
    p->bindings_.push_back(std::move(b));
  }
  return p;
}

LoadedProgram::~LoadedProgram() {
  if (!api_) return;
  const RuntimeApi& a = *api_;
  if (exec_) a.releaseExecObj(exec_);
  if (active_) a.runActivationCmd(program_, c::kDeactivateFull);
  if (loaded_) a.unloadProgram(program_);
  if (program_) a.releaseProgram(program_);
  if (qpc_) a.closeQpc(qpc_);
  if (queue_) a.releaseQueue(queue_);
  if (context_) a.releaseContext(context_);
}

absl::StatusOr<std::map<std::string, std::vector<uint8_t>>> LoadedProgram::Run(
    const std::map<std::string, std::vector<uint8_t>>& inputs) {
  std::vector<c::QBuffer> bufs(bindings_.size(),
                               c::QBuffer{0, nullptr, 0, 0, 0});
  std::map<std::string, std::vector<uint8_t>> outputs;
  std::map<std::string, std::vector<uint8_t>> staged;  // inputs, owned
  size_t used = 0;
  for (const Binding& b : bindings_) {
    c::QBuffer& q = bufs[b.index];
    if (b.retained) continue;  // zero-sized: the card keeps it
    if (b.io_type == 1) {
      auto it = inputs.find(b.name);
      if (it == inputs.end())
        return absl::InvalidArgumentError(
            absl::StrCat("aic: input '", b.name, "' not given"));
      ++used;
      const size_t n = it->second.size();
      if (n != b.size && !(b.partial_allowed && n < b.size))
        return absl::InvalidArgumentError(
            absl::StrCat("aic: input '", b.name, "' has ", n,
                         " bytes, the program binds ", b.size));
      std::vector<uint8_t>& own = staged[b.name];
      own = it->second;
      q.size = own.size();
      q.buf = own.data();
    } else if (b.io_type == 2) {
      std::vector<uint8_t>& out = outputs[b.name];
      out.assign(b.size, 0);
      q.size = out.size();
      q.buf = out.data();
    }
  }
  if (used != inputs.size()) {
    for (const auto& [name, bytes] : inputs) {
      bool known = false;
      for (const Binding& b : bindings_)
        known = known || (b.name == name && b.io_type == 1 && !b.retained);
      if (!known)
        return absl::InvalidArgumentError(
            absl::StrCat("aic: the program has no input '", name, "'"));
    }
  }
  const RuntimeApi& a = *api_;
  absl::Status s = Check(
      a.execObjSetData(exec_, static_cast<uint32_t>(bufs.size()), bufs.data()),
      "qaicExecObjSetData");
  if (!s.ok()) return s;
  s = Check(a.enqueueExecObj(queue_, exec_, nullptr), "qaicEnqueueExecObj");
  if (!s.ok()) return s;
  s = Check(a.execObjWaitForCompletion(exec_, 60000000),
            "qaicExecObjWaitForCompletion");
  if (!s.ok()) return s;
  return outputs;
}

}  // namespace qeff::hw::aic
