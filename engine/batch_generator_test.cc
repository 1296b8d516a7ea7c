#include "engine/batch_generator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "engine/generator.h"
#include "engine/generator_testing.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "models/arch/registry.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

constexpr int64_t kSeqLen = 4;
constexpr int64_t kCtxLen = 32;

using testing::CountingSession;

// The seeded llama test model compiled twice on one device: the batch-1
// program engine::Generator runs and a continuous-batching program with
// full_batch_size F.
struct Programs {
  std::unique_ptr<hw::Device> device;
  std::shared_ptr<const hw::Program> solo, cb;
  int64_t vocab_size = 0;
};

Programs Compile(const std::string& device, int64_t fbs) {
  Programs p;
  models::TestModelSpec spec;
  spec.seed = models::DefaultTestSeed(spec.arch);
  auto m = models::MakeTestModel(spec);
  QEFF_CHECK(m.ok());
  p.vocab_size = m->config.vocab_size;
  auto eager = models::BuildEager(m->config, m->Weights());
  QEFF_CHECK(eager.ok());
  auto solo = TransformForDevice(*eager, {});
  auto cb = TransformForDevice(*eager, {.continuous_batching = true});
  QEFF_CHECK(solo.ok() && cb.ok());
  auto dev = hw::OpenDevice(device);
  QEFF_CHECK(dev.ok());
  p.device = *std::move(dev);
  auto sp = p.device->Compile(
      *solo, hw::PrefillDecodeSpecializations(1, kSeqLen, kCtxLen), {});
  QEFF_CHECK(sp.ok());
  p.solo = *sp;
  auto cp = p.device->Compile(
      *cb, ContinuousBatchingSpecializations(fbs, kSeqLen, kCtxLen), {});
  QEFF_CHECK(cp.ok());
  p.cb = *cp;
  return p;
}

std::vector<int64_t> Prompt(int k, int len, int64_t vocab) {
  return testing::TestPrompt(k, len, vocab);
}

// What engine::Generator gives each request alone on the batch-1 program.
std::vector<GenerationResult> SoloRuns(const Programs& p,
                                       const std::vector<BatchRequest>& reqs) {
  auto session = p.device->Load(p.solo);
  QEFF_CHECK(session.ok());
  Generator gen(session->get());
  std::vector<GenerationResult> out;
  for (const auto& r : reqs) {
    GenerationOptions go;
    go.prefill_seq_len = kSeqLen;
    go.ctx_len = kCtxLen;
    go.generation_len = r.generation_len;
    go.eos_id = r.eos_id;
    go.stop_at_ctx_len = r.stop_at_ctx_len;
    auto g = gen.Generate(r.prompt, go);
    QEFF_CHECK(g.ok());
    out.push_back(*g);
  }
  return out;
}

ContinuousBatchOptions Options(const Programs& p) {
  auto o = ContinuousBatchOptionsFor(p.cb->specializations());
  QEFF_CHECK(o.ok());
  o->vocab_size = p.vocab_size;
  return *o;
}

// Seven prompts of different lengths (1 to 12 tokens: one chunk, several,
// an exact multiple of the chunk) and generation lengths (1 finishes at
// prefill), so slots free at different steps.
std::vector<BatchRequest> SevenRequests(int64_t vocab) {
  const int lens[7] = {5, 1, 12, 3, 8, 4, 9};
  const int gens[7] = {6, 11, 3, 1, 9, 14, 5};
  std::vector<BatchRequest> reqs;
  for (int k = 0; k < 7; ++k) {
    BatchRequest r;
    r.prompt = Prompt(k, lens[k], vocab);
    r.generation_len = gens[k];
    reqs.push_back(r);
  }
  return reqs;
}

// Every slot is refilled at the step its previous occupant retired.
void ExpectImmediateRefill(const BatchResult& r, int64_t fbs) {
  std::map<int64_t, std::vector<const BatchRequestResult*>> by_slot;
  for (const auto& x : r.results) {
    ASSERT_GE(x.slot, 0);
    ASSERT_LT(x.slot, fbs);
    by_slot[x.slot].push_back(&x);  // request order = admission order
  }
  for (auto& [slot, v] : by_slot) {
    for (size_t i = 1; i < v.size(); ++i) {
      EXPECT_EQ(v[i]->admitted_step, v[i - 1]->retired_step)
          << "slot " << slot << " occupant " << i;
    }
  }
}

class BatchGeneratorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchGeneratorTest, SevenPromptsThreeSlotsMatchSoloRuns) {
  const int64_t F = 3;
  Programs p = Compile(GetParam(), F);
  std::vector<BatchRequest> reqs = SevenRequests(p.vocab_size);
  std::vector<GenerationResult> solo = SoloRuns(p, reqs);
  auto session = p.device->Load(p.cb);
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<std::vector<int64_t>> streamed(reqs.size());
  ContinuousBatchOptions o = Options(p);
  EXPECT_EQ(o.full_batch_size, F);
  EXPECT_EQ(o.prefill_seq_len, kSeqLen);
  EXPECT_EQ(o.ctx_len, kCtxLen);
  o.on_token = [&](size_t i, int64_t t) { streamed[i].push_back(t); };
  ContinuousBatchGenerator gen(session->get(), o);
  auto r = gen.Generate(reqs);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results.size(), reqs.size());
  int64_t total = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const GenerationResult& g = r->results[i].generation;
    EXPECT_EQ(g.token_ids, solo[i].token_ids) << "request " << i;
    EXPECT_EQ(static_cast<int64_t>(g.token_ids.size()), reqs[i].generation_len);
    EXPECT_EQ(streamed[i], g.token_ids) << "request " << i;
    EXPECT_FALSE(g.stopped_at_eos);
    EXPECT_FALSE(g.stopped_at_ctx_len);
    EXPECT_GT(g.stats.ttft_s, 0);
    EXPECT_GE(g.stats.e2e_s, g.stats.ttft_s);
    if (g.token_ids.size() > 1) {
      EXPECT_GT(g.stats.decode_tok_s, 0);
    }
    total += static_cast<int64_t>(g.token_ids.size());
  }
  // Requests 0..2 start at once, the rest wait for slots.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r->results[i].admitted_step, 0);
  EXPECT_GT(r->results[6].admitted_step, 0);
  ExpectImmediateRefill(*r, F);
  EXPECT_EQ(r->stats.generated_tokens, total);
  // Decode steps: the longest chain of occupancy, never one per token.
  EXPECT_LT(r->stats.decode_steps, total - static_cast<int64_t>(reqs.size()));
  EXPECT_GT(r->stats.mean_active_rows, 1.0);
  EXPECT_EQ(r->stats.prefill_calls, 2 + 1 + 3 + 1 + 2 + 1 + 3);

  // The same session serves a second batch (state reset, slots reused).
  auto again = gen.Generate(reqs);
  ASSERT_TRUE(again.ok()) << again.status();
  for (size_t i = 0; i < reqs.size(); ++i)
    EXPECT_EQ(again->results[i].generation.token_ids, solo[i].token_ids);
}

TEST_P(BatchGeneratorTest, EosRetiresAndFreedSlotsRefill) {
  const int64_t F = 3;
  Programs p = Compile(GetParam(), F);
  std::vector<BatchRequest> reqs = SevenRequests(p.vocab_size);
  for (auto& r : reqs) r.generation_len = 12;
  std::vector<GenerationResult> full = SoloRuns(p, reqs);
  // eos: request 1's 4th token, so at least request 1 stops early.
  const int64_t eos = full[1].token_ids[3];
  for (auto& r : reqs) r.eos_id = eos;
  std::vector<GenerationResult> solo = SoloRuns(p, reqs);
  auto session = p.device->Load(p.cb);
  ASSERT_TRUE(session.ok());
  ContinuousBatchGenerator gen(session->get(), Options(p));
  auto r = gen.Generate(reqs);
  ASSERT_TRUE(r.ok()) << r.status();
  int early = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const GenerationResult& g = r->results[i].generation;
    EXPECT_EQ(g.token_ids, solo[i].token_ids) << "request " << i;
    EXPECT_EQ(g.stopped_at_eos, solo[i].stopped_at_eos) << "request " << i;
    if (g.stopped_at_eos) {
      EXPECT_EQ(g.token_ids.back(), eos);
      early += g.token_ids.size() < 12u;
    }
  }
  ASSERT_GE(early, 1);
  EXPECT_TRUE(r->results[1].generation.stopped_at_eos);
  EXPECT_LE(r->results[1].generation.token_ids.size(), 4u);
  // Request 1 retired early; the request admitted into its slot started
  // while the other slots were still busy.
  ExpectImmediateRefill(*r, F);
  const int64_t slot1 = r->results[1].slot;
  bool refilled = false;
  for (size_t i = 2; i < reqs.size(); ++i) {
    if (r->results[i].slot == slot1 &&
        r->results[i].admitted_step == r->results[1].retired_step) {
      refilled = true;
      const int64_t at = r->results[i].admitted_step;
      bool others_busy = false;
      for (const auto& m : r->results)
        others_busy |=
            m.slot != slot1 && m.admitted_step <= at && m.retired_step > at;
      EXPECT_TRUE(others_busy) << "request " << i << " admitted at " << at;
    }
  }
  EXPECT_TRUE(refilled);
}

TEST_P(BatchGeneratorTest, CapacityErrorsBeforeAnyWorkOrStopAtCtxLen) {
  Programs p = Compile(GetParam(), 2);
  auto inner = p.device->Load(p.cb);
  ASSERT_TRUE(inner.ok());
  CountingSession session(inner->get());
  ContinuousBatchGenerator gen(&session, Options(p));
  std::vector<BatchRequest> reqs = SevenRequests(p.vocab_size);
  // Request 2: 12 prompt tokens + 22 generated need ctx_len 33 > 32.
  reqs[2].generation_len = 22;
  auto r = gen.Generate(reqs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("request 2:"), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("ctx_len >= 33"), std::string::npos)
      << r.status();
  EXPECT_EQ(session.runs, 0);
  EXPECT_EQ(session.resets, 0);
  // Exactly ctx_len is fine.
  reqs[2].generation_len = 21;
  // A prompt longer than ctx_len fails even with stop_at_ctx_len.
  reqs[4].prompt = Prompt(4, kCtxLen + 1, p.vocab_size);
  reqs[4].stop_at_ctx_len = true;
  r = gen.Generate(reqs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("request 4:"), std::string::npos)
      << r.status();
  EXPECT_EQ(session.runs, 0);
  // stop_at_ctx_len: request 4 (30 tokens) asked for 10 gets 3.
  reqs[4].prompt = Prompt(4, kCtxLen - 2, p.vocab_size);
  reqs[4].generation_len = 10;
  std::vector<GenerationResult> solo = SoloRuns(p, reqs);
  r = gen.Generate(reqs);
  ASSERT_TRUE(r.ok()) << r.status();
  for (size_t i = 0; i < reqs.size(); ++i)
    EXPECT_EQ(r->results[i].generation.token_ids, solo[i].token_ids) << i;
  EXPECT_EQ(r->results[4].generation.token_ids.size(), 3u);
  EXPECT_TRUE(r->results[4].generation.stopped_at_ctx_len);
  EXPECT_EQ(r->results[2].generation.token_ids.size(), 21u);
  EXPECT_FALSE(r->results[2].generation.stopped_at_ctx_len);
}

TEST_P(BatchGeneratorTest, BadInputNamesTheRequest) {
  Programs p = Compile(GetParam(), 2);
  auto inner = p.device->Load(p.cb);
  ASSERT_TRUE(inner.ok());
  CountingSession session(inner->get());
  ContinuousBatchGenerator gen(&session, Options(p));
  auto expect_error = [&](std::vector<BatchRequest> reqs,
                          const std::string& what) {
    auto r = gen.Generate(reqs);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status();
  };
  std::vector<BatchRequest> reqs = SevenRequests(p.vocab_size);
  auto bad = reqs;
  bad[3].prompt.clear();
  expect_error(bad, "request 3: the prompt is empty");
  bad = reqs;
  bad[5].prompt[2] = p.vocab_size;
  expect_error(bad, absl::StrCat("request 5: prompt id ", p.vocab_size,
                                 " at index 2 is not a token id in [0, ",
                                 p.vocab_size, ")"));
  bad = reqs;
  bad[0].prompt[0] = -1;
  expect_error(bad, "request 0: prompt id -1 at index 0");
  bad = reqs;
  bad[6].generation_len = 0;
  expect_error(bad, "request 6: generation_len must be positive");
  EXPECT_EQ(session.runs, 0);

  // Options that do not fit the program.
  ContinuousBatchOptions o = Options(p);
  o.full_batch_size = 0;
  auto r = ContinuousBatchGenerator(&session, o).Generate(reqs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("full_batch_size"), std::string::npos);
  // A batch-1 (non-CB) program has no batch_index: the device says so, and
  // the error names the request.
  auto solo = p.device->Load(p.solo);
  ASSERT_TRUE(solo.ok());
  r = ContinuousBatchGenerator(solo->get(), Options(p)).Generate(reqs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("request 0: prefill"), std::string::npos)
      << r.status();
  // Specializations that are not a CB pair.
  auto so = ContinuousBatchOptionsFor(
      hw::PrefillDecodeSpecializations(1, kSeqLen, kCtxLen));
  ASSERT_FALSE(so.ok());
  EXPECT_NE(so.status().message().find("full_batch_size"), std::string::npos)
      << so.status();
  auto specs = ContinuousBatchingSpecializations(4, kSeqLen, kCtxLen);
  specs[1].symbols["batch_size"] = 2;
  so = ContinuousBatchOptionsFor(specs);
  ASSERT_FALSE(so.ok());
  EXPECT_NE(so.status().message().find("'Decode'"), std::string::npos);
  // No requests: an empty result, no device work.
  session.runs = 0;
  auto empty = gen.Generate({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->results.empty());
  EXPECT_EQ(session.runs, 0);
}

INSTANTIATE_TEST_SUITE_P(Devices, BatchGeneratorTest,
                         ::testing::Values("cpu", "reference"));

// 8 prompts with F = 4 vs the same prompts one after another on the batch-1
// program (cpu): same tokens; prints generated tokens per second of each.
TEST(BatchGeneratorThroughput, EightPromptsFourSlotsVsSequential) {
  const int64_t F = 4;
  Programs p = Compile("cpu", F);
  std::vector<BatchRequest> reqs;
  for (int k = 0; k < 8; ++k) {
    BatchRequest r;
    r.prompt = Prompt(k, 2 + 2 * k, p.vocab_size);
    r.generation_len = kCtxLen - static_cast<int64_t>(r.prompt.size()) + 1 - k;
    reqs.push_back(r);
  }
  // Sequential batch 1 (best of 3).
  double seq_s = 1e30;
  std::vector<GenerationResult> solo;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    solo = SoloRuns(p, reqs);
    seq_s = std::min(seq_s, std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - t0)
                                .count());
  }
  auto session = p.device->Load(p.cb);
  ASSERT_TRUE(session.ok());
  ContinuousBatchGenerator gen(session->get(), Options(p));
  double cb_s = 1e30;
  BatchResult best;
  for (int rep = 0; rep < 3; ++rep) {
    auto r = gen.Generate(reqs);
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->stats.wall_s < cb_s) {
      cb_s = r->stats.wall_s;
      best = *r;
    }
  }
  int64_t tokens = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(best.results[i].generation.token_ids, solo[i].token_ids) << i;
    tokens += static_cast<int64_t>(solo[i].token_ids.size());
  }
  std::printf(
      "seeded test model, cpu, 8 prompts, %lld tokens: sequential batch 1 "
      "%.1f tok/s, continuous batching F=%lld %.1f tok/s (%.2fx; %lld decode "
      "steps, %.2f rows active on average)\n",
      static_cast<long long>(tokens), tokens / seq_s, static_cast<long long>(F),
      tokens / cb_s, seq_s / cb_s,
      static_cast<long long>(best.stats.decode_steps),
      best.stats.mean_active_rows);
}

}  // namespace
}  // namespace qeff::engine
