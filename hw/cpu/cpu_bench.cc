// Measures the cpu driver on a stories110M-shaped random Llama (dim 768,
// 12 layers, 12 heads, ffn 2048, vocab 32000): compile time, prefill and
// decode speed, container write/read, and the reference driver's decode for
// comparison. Run: bazel run -c opt --config=opt //hw/cpu:cpu_bench [-- q8_0]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "hw/conformance/test_graphs.h"
#include "hw/cpu/container.h"
#include "hw/cpu/cpu_driver.h"
#include "hw/reference_driver.h"

namespace {

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

long RssAnonKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace qeff;
  hw::testing::TinyLlamaOptions o;
  o.hidden = 768;
  o.intermediate = 2048;
  o.layers = 12;
  o.heads = 12;
  o.kv_heads = 12;
  o.vocab = 32000;
  if (argc > 1) {
    auto f = ir::ParseQuantFormat(argv[1]);
    if (!f.ok()) return 1;
    o.weights = *f;
  }
  double t0 = Now();
  auto m = hw::testing::MakeTinyLlama(o);
  if (!m.ok()) {
    std::printf("%s\n", m.status().ToString().c_str());
    return 1;
  }
  std::printf("model built in %.2f s\n", Now() - t0);
  auto dev = *hw::OpenCpuDevice("cpu");
  const int64_t P = 32, C = 256;
  auto specs = hw::PrefillDecodeSpecializations(1, P, C);
  t0 = Now();
  auto prog = dev->Compile(m->graph, specs, {});
  if (!prog.ok()) {
    std::printf("%s\n", prog.status().ToString().c_str());
    return 1;
  }
  std::printf("compile (prefill %ld + decode, ctx %ld): %.3f s on %d cores\n",
              long(P), long(C), Now() - t0, hw::CpuDeviceCores(*dev));
  const std::string dir = "/tmp/qeff_cpu_bench_qpc";
  std::filesystem::remove_all(dir);
  t0 = Now();
  if (!hw::cpu::WriteProgram(**prog, dir).ok()) return 1;
  std::printf("container write: %.3f s\n", Now() - t0);
  long rss0 = RssAnonKb();
  t0 = Now();
  auto loaded = hw::cpu::ReadProgram(dir);
  if (!loaded.ok()) return 1;
  auto session = *dev->Load(*loaded);
  std::printf(
      "container read + load: %.3f s, anonymous RSS +%ld MiB (arena + cache)\n",
      Now() - t0, (RssAnonKb() - rss0) / 1024);
  std::vector<int64_t> ids = hw::testing::TestPrompt(P, o.vocab, 7), pos(P);
  for (int64_t i = 0; i < P; ++i) pos[i] = i;
  t0 = Now();
  auto r =
      session->Run("Prefill", {{"input_ids", ir::Tensor::I64({1, P}, ids)},
                               {"position_ids", ir::Tensor::I64({1, P}, pos)}});
  if (!r.ok()) return 1;
  std::printf("cpu prefill %ld tokens: %.3f s (%.1f tok/s)\n", long(P),
              Now() - t0, P / (Now() - t0));
  const int steps = 32;
  t0 = Now();
  for (int i = 0; i < steps; ++i) {
    auto d = session->Run("Decode",
                          {{"input_ids", ir::Tensor::I64({1, 1}, {ids[i]})},
                           {"position_ids", ir::Tensor::I64({1, 1}, {P + i})}});
    if (!d.ok()) return 1;
  }
  std::printf("cpu decode: %.2f tok/s\n", steps / (Now() - t0));
  auto ref = hw::MakeReferenceDevice();
  auto rp = ref->Compile(m->dequantized,
                         hw::PrefillDecodeSpecializations(1, 1, C), {});
  auto rs = *ref->Load(*rp);
  t0 = Now();
  const int rsteps = 2;
  for (int i = 0; i < rsteps; ++i) {
    auto d =
        rs->Run("Decode", {{"input_ids", ir::Tensor::I64({1, 1}, {ids[i]})},
                           {"position_ids", ir::Tensor::I64({1, 1}, {i})}});
    if (!d.ok()) return 1;
  }
  std::printf("reference decode: %.3f tok/s\n", rsteps / (Now() - t0));
  return 0;
}
