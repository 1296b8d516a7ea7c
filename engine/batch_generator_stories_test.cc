// Continuous batching on the real stories260K (llama2.c, GGUF) shipped in the
// repository at models/stories260K with the cpu device: 8 story prompts
// with full_batch_size 4 give exactly the tokens of sequential batch-1
// generation, and the test prints both throughputs (generated tokens per
// second).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/batch_generator.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "models/model_loader.h"
#include "tests/util/test_util.h"

namespace qeff::engine {
namespace {

TEST(BatchGeneratorStories, EightPromptsFourSlotsVsSequential) {
  auto model = models::Load(testing::Stories260KGguf());
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_NE(model->tokenizer, nullptr);
  const int64_t F = 4, S = 32, ctx = 256;
  auto device = hw::OpenDevice("cpu");
  ASSERT_TRUE(device.ok()) << device.status();
  auto solo_g = TransformForDevice(model->eager, {});
  auto cb_g = TransformForDevice(model->eager, {.continuous_batching = true});
  ASSERT_TRUE(solo_g.ok() && cb_g.ok());
  auto solo_p = (*device)->Compile(
      *solo_g, hw::PrefillDecodeSpecializations(1, S, ctx), {});
  ASSERT_TRUE(solo_p.ok()) << solo_p.status();
  auto cb_p = (*device)->Compile(
      *cb_g, ContinuousBatchingSpecializations(F, S, ctx), {});
  ASSERT_TRUE(cb_p.ok()) << cb_p.status();

  const char* texts[8] = {
      "Once upon a time",  "Lily and Ben went to the park",
      "The little dog",    "One day, a girl named Sue found a big red ball",
      "Tom had a toy car", "The sun was hot and the birds",
      "Mom said",          "There was a tiny fish who lived in a pond"};
  std::vector<BatchRequest> reqs;
  for (int k = 0; k < 8; ++k) {
    auto ids = model->tokenizer->EncodePrompt(texts[k]);
    ASSERT_TRUE(ids.ok());
    BatchRequest r;
    r.prompt.assign(ids->begin(), ids->end());
    r.generation_len = 120 + 12 * k;
    r.eos_id = model->tokenizer->eos_id();
    reqs.push_back(r);
  }

  auto solo_s = (*device)->Load(*solo_p);
  ASSERT_TRUE(solo_s.ok());
  Generator solo(solo_s->get());
  std::vector<GenerationResult> expected;
  double seq_s = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    expected.clear();
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& r : reqs) {
      GenerationOptions go;
      go.prefill_seq_len = S;
      go.ctx_len = ctx;
      go.generation_len = r.generation_len;
      go.eos_id = r.eos_id;
      auto g = solo.Generate(r.prompt, go);
      ASSERT_TRUE(g.ok()) << g.status();
      expected.push_back(*g);
    }
    seq_s = std::min(seq_s, std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - t0)
                                .count());
  }

  auto cb_s = (*device)->Load(*cb_p);
  ASSERT_TRUE(cb_s.ok());
  auto o = ContinuousBatchOptionsFor((*cb_p)->specializations());
  ASSERT_TRUE(o.ok()) << o.status();
  o->vocab_size = model->config.vocab_size;
  ContinuousBatchGenerator gen(cb_s->get(), *o);
  BatchResult best;
  double cb_wall = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto r = gen.Generate(reqs);
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->stats.wall_s < cb_wall) {
      cb_wall = r->stats.wall_s;
      best = *r;
    }
  }
  int64_t tokens = 0, eos_stops = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(best.results[i].generation.token_ids, expected[i].token_ids)
        << "request " << i;
    tokens += static_cast<int64_t>(expected[i].token_ids.size());
    eos_stops += expected[i].stopped_at_eos;
  }
  auto first = model->tokenizer->Decode(
      std::vector<int32_t>(best.results[0].generation.token_ids.begin(),
                           best.results[0].generation.token_ids.end()));
  ASSERT_TRUE(first.ok());
  std::printf("stories260K request 0: %s%s\n", texts[0], first->c_str());
  std::printf(
      "stories260K, %s, 8 prompts, %lld tokens (%lld stopped at eos): "
      "sequential batch 1 %.1f tok/s, continuous batching F=%lld %.1f tok/s "
      "(%.2fx; %lld decode steps, %.2f rows active on average)\n",
      (*device)->name().c_str(), static_cast<long long>(tokens),
      static_cast<long long>(eos_stops), tokens / seq_s,
      static_cast<long long>(F), tokens / cb_wall, seq_s / cb_wall,
      static_cast<long long>(best.stats.decode_steps),
      best.stats.mean_active_rows);
}

}  // namespace
}  // namespace qeff::engine
