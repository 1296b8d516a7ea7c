// MoE decode on the cpu driver: the gathered-expert kernel (only the
// top_k selected experts per token) vs the same kernel evaluating every
// expert (the dense all-experts form of the exported ONNX), measured in one
// run on the same compiled program, with the ratio printed. The numbers are
// wall-clock on whatever machine runs it: on a shared, busy machine only
// the ratio means much.
//
// The model: a seeded Mixtral-shaped test model (models/test_model.h) with
// hidden 256, 4 layers, 8 heads (4 kv), 8 experts of ffn 512, top-2, expert
// weights f32 or Q8_0 (--format), written as GGUF and loaded through
// models::Load like any user's file.
//
// Run: bazel run -c opt //bench:moe_decode_bench -- [--decode=32]
//        [--reps=3] [--format=f32|q8_0] [--threads=2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "hw/cpu/cpu_driver.h"
#include "hw/cpu/kernels_moe.h"
#include "hw/driver.h"
#include "ir/quant.h"
#include "models/model_loader.h"
#include "models/test_model.h"

namespace qeff {
namespace {

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int Main(int argc, char** argv) {
  int64_t decode = 32;
  int reps = 3, threads = 2;
  std::string format = "f32";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* k) -> const char* {
      std::string p = absl::StrCat("--", k, "=");
      return a.rfind(p, 0) == 0 ? argv[i] + p.size() : nullptr;
    };
    if (const char* v = val("decode")) {
      if (!absl::SimpleAtoi(v, &decode) || decode < 1) return 2;
    } else if (const char* v = val("reps")) {
      if (!absl::SimpleAtoi(v, &reps) || reps < 1) return 2;
    } else if (const char* v = val("threads")) {
      if (!absl::SimpleAtoi(v, &threads) || threads < 1) return 2;
    } else if (const char* v = val("format")) {
      format = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  models::TestModelSpec spec;
  spec.arch = "mixtral";
  spec.seed = 7;
  spec.hidden_size = 256;
  spec.intermediate_size = 512;
  spec.num_hidden_layers = 4;
  spec.num_attention_heads = 8;
  spec.num_key_value_heads = 4;
  spec.num_experts = 8;
  spec.num_experts_per_tok = 2;
  if (format == "q8_0") {
    spec.gguf_weights = ir::QuantFormat::kQ8_0;
  } else if (format != "f32") {
    std::fprintf(stderr, "--format: f32 or q8_0, got %s\n", format.c_str());
    return 2;
  }
  const std::string path = "/tmp/qeff_moe_decode_bench.gguf";
  if (auto st = models::WriteTestModelGguf(spec, path); !st.ok()) {
    std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
    return 1;
  }
  auto m = models::Load(path);
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", std::string(m.status().message()).c_str());
    return 1;
  }
  auto device = hw::OpenCpuDevice(absl::StrCat("cpu:", threads));
  if (!device.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(device.status().message()).c_str());
    return 1;
  }
  const int64_t ctx = 8 + decode + 1;
  auto compiled = engine::CompileLM(
      m->eager, **device, hw::PrefillDecodeSpecializations(1, 8, ctx), {});
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(compiled.status().message()).c_str());
    return 1;
  }
  auto session = (*device)->Load(compiled->program);
  if (!session.ok()) return 1;
  const std::vector<int64_t> prompt = {1, 300, 262, 318, 331, 270, 345, 290};
  auto run = [&](bool all) -> double {
    hw::cpu::SetMoEAllExpertsForBenchmark(all);
    double total = 0;
    for (int r = 0; r <= reps; ++r) {
      engine::Generator gen(session->get());
      engine::GenerationOptions o;
      o.prefill_seq_len = 8;
      o.ctx_len = ctx;
      auto l = gen.Prefill(prompt, o);
      if (!l.ok()) return -1;
      const double t0 = Now();
      for (int64_t i = 0; i < decode; ++i) {
        l = gen.Decode(engine::Argmax(*l), 8 + i);
        if (!l.ok()) return -1;
      }
      const double rate = decode / (Now() - t0);
      if (r == 0) continue;  // warm-up
      total += rate;
    }
    hw::cpu::SetMoEAllExpertsForBenchmark(false);
    return total / reps;
  };
  const double gathered = run(false), dense = run(true);
  std::printf(
      "MoE decode, cpu driver, %s experts (8 experts, top-2, 4 MoE layers, "
      "hidden 256, ffn 512), %d threads, %lld tokens x %d reps "
      "[measured on a shared, busy machine]:\n"
      "  gathered (top-k experts only): %.1f tok/s\n"
      "  all experts:                   %.1f tok/s\n"
      "  ratio gathered / all-experts:  %.2fx\n",
      format.c_str(), threads, static_cast<long long>(decode), reps, gathered,
      dense, dense > 0 ? gathered / dense : 0.0);
  return gathered > 0 && dense > 0 ? 0 : 1;
}

}  // namespace
}  // namespace qeff

int main(int argc, char** argv) { return qeff::Main(argc, argv); }
