// Serving throughput of the executor (engine/executor.h): two models, the
// same requests, three ways, in one run of one binary:
//   sequential  each model on the whole host ("cpu"), a batch-1 program,
//               one request at a time (enqueue, wait, next)
//   cards       each model on its own virtual card (cpu:2/0, cpu:2/1), a
//               batch-1 program, every request enqueued at once
//   cards+cb    the same with continuous batching (full_batch_size 4)
// Prints generated tokens/s, the ratio to sequential, peak RSS, and checks
// that every request got the same tokens each way (greedy; cpu is
// batch-invariant). Run on a quiet machine:
//   bazel run -c opt //bench:executor_bench -- [--requests=16] [--gen=48]
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "base/status_macros.h"
#include "bench/bench_util.h"
#include "engine/executor.h"
#include "engine/lm_pipeline.h"
#include "hw/device_registry.h"
#include "models/test_model.h"

ABSL_FLAG(int, requests, 16, "requests per model");
ABSL_FLAG(int, gen, 48, "tokens generated per request");
ABSL_FLAG(int, hidden, 256, "hidden size of both test models");
ABSL_FLAG(int, layers, 4, "layers of both test models");

namespace qeff {
namespace {

struct Lm {
  std::string name;
  ir::Graph solo, cb;
  int64_t vocab = 0;
};

Lm MakeLm(const std::string& arch) {
  models::TestModelSpec spec;
  spec.arch = arch;
  spec.seed = models::DefaultTestSeed(arch);
  spec.hidden_size = absl::GetFlag(FLAGS_hidden);
  spec.intermediate_size = spec.hidden_size * 11 / 4;
  spec.num_hidden_layers = absl::GetFlag(FLAGS_layers);
  spec.num_attention_heads = 8;
  spec.num_key_value_heads = 4;
  auto m = models::MakeTestModel(spec);
  QEFF_CHECK(m.ok());
  auto eager = models::BuildEager(m->config, m->Weights());
  QEFF_CHECK(eager.ok());
  auto solo = engine::TransformForDevice(*eager, {});
  auto cb = engine::TransformForDevice(*eager, {.continuous_batching = true});
  QEFF_CHECK(solo.ok() && cb.ok());
  return Lm{arch, *std::move(solo), *std::move(cb), m->config.vocab_size};
}

constexpr int64_t kSeqLen = 32, kCtxLen = 128;

std::shared_ptr<const hw::Program> CompileOn(const ir::Graph& g,
                                             const std::string& device,
                                             int64_t fbs) {
  auto d = hw::OpenDevice(device);
  QEFF_CHECK(d.ok());
  auto p = (*d)->Compile(
      g, hw::CausalLMSpecializations(kSeqLen, kCtxLen, 1, fbs), {});
  QEFF_CHECK(p.ok());
  return *p;
}

struct Run {
  double seconds = 0;
  int64_t tokens = 0;
  std::vector<std::vector<int64_t>> outputs;  // per request, model-major
};

// Serves `requests` of both models; `one_at_a_time`: wait for each before
// the next.
Run Serve(const std::vector<Lm>& lms,
          const std::vector<std::vector<std::string>>& devices, int64_t fbs,
          const std::vector<std::vector<std::vector<int64_t>>>& prompts,
          bool one_at_a_time) {
  engine::Executor ex;
  for (size_t m = 0; m < lms.size(); ++m) {
    engine::ServedModel sm;
    sm.name = lms[m].name;
    sm.vocab_size = lms[m].vocab;
    engine::ServedProgram sp;
    sp.program =
        CompileOn(fbs > 0 ? lms[m].cb : lms[m].solo, devices[m][0], fbs);
    sp.devices = devices[m];
    sm.programs.push_back(sp);
    QEFF_CHECK(ex.AddModel(sm).ok());
  }
  Run run;
  std::vector<engine::Request> all;
  for (size_t m = 0; m < lms.size(); ++m) {
    for (const auto& p : prompts[m]) {
      engine::Request q;
      q.model = lms[m].name;
      q.prompt_ids = p;
      q.generation_len = absl::GetFlag(FLAGS_gen);
      q.stop_at_eos = false;
      all.push_back(q);
    }
  }
  const double t0 = bench::NowSeconds();
  if (one_at_a_time) {
    for (const auto& q : all) {
      auto id = ex.Enqueue(q);
      QEFF_CHECK(id.ok());
      auto r = ex.Wait(*id);
      QEFF_CHECK(r.ok());
      run.outputs.push_back(r->token_ids);
    }
  } else {
    auto ids = ex.EnqueueBatch(all);
    QEFF_CHECK(ids.ok());
    for (engine::RequestId id : *ids) {
      auto r = ex.Wait(id);
      QEFF_CHECK(r.ok());
      run.outputs.push_back(r->token_ids);
    }
  }
  run.seconds = bench::NowSeconds() - t0;
  for (const auto& o : run.outputs) run.tokens += o.size();
  return run;
}

int Main() {
  std::vector<Lm> lms = {MakeLm("llama"), MakeLm("qwen2")};
  std::vector<std::vector<std::vector<int64_t>>> prompts(2);
  for (int m = 0; m < 2; ++m) {
    for (int k = 0; k < absl::GetFlag(FLAGS_requests); ++k) {
      std::vector<int64_t> p = {1};
      const int len = 8 + (k * 13) % 40;
      for (int j = 1; j < len; ++j)
        p.push_back(3 + (k * 37 + j * 101 + m * 7) % (lms[m].vocab - 3));
      prompts[m].push_back(p);
    }
  }
  QEFF_CHECK(bench::ResetPeakRss().ok());
  Run seq = Serve(lms, {{"cpu"}, {"cpu"}}, 0, prompts, true);
  const long seq_rss = bench::ReadProcMemory().vm_hwm;
  QEFF_CHECK(bench::ResetPeakRss().ok());
  Run cards = Serve(lms, {{"cpu:2/0"}, {"cpu:2/1"}}, 0, prompts, false);
  const long cards_rss = bench::ReadProcMemory().vm_hwm;
  QEFF_CHECK(bench::ResetPeakRss().ok());
  Run cb = Serve(lms, {{"cpu:2/0"}, {"cpu:2/1"}}, 4, prompts, false);
  const long cb_rss = bench::ReadProcMemory().vm_hwm;
  const bool same = seq.outputs == cards.outputs && seq.outputs == cb.outputs;
  std::printf(
      "executor_bench: 2 models (llama, qwen2; hidden %d, %d layers), %d "
      "requests each, %d tokens each, prompt 8..47\n",
      absl::GetFlag(FLAGS_hidden), absl::GetFlag(FLAGS_layers),
      absl::GetFlag(FLAGS_requests), absl::GetFlag(FLAGS_gen));
  auto line = [&](const char* what, const Run& r, long rss) {
    const double tps = r.tokens / r.seconds;
    std::printf("  %-48s %8.3f s %9.1f tok/s  x%.2f  peak RSS %ld MiB\n", what,
                r.seconds, tps, tps / (seq.tokens / seq.seconds), rss / 1024);
  };
  line("sequential (cpu, batch 1, one at a time)", seq, seq_rss);
  line("2 models on 2 cards (cpu:2/k, batch 1)", cards, cards_rss);
  line("2 models on 2 cards, continuous batching F=4", cb, cb_rss);
  std::printf("  same tokens every way: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}

}  // namespace
}  // namespace qeff

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return qeff::Main();
}
