// The walking skeleton's numeric contract: the transformed graph (retained
// KV cache on the reference device) gives the eager graph's logits
// (max |diff| <= 1e-5) at every position when stepped one token at a time,
// and at each chunk's last position when prefilled in chunks of 8 — on the
// seeded test model and on the real stories260K shipped in the repository.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/reference_driver.h"
#include "ir/evaluator.h"
#include "models/arch/registry.h"
#include "models/model_loader.h"
#include "models/test_model.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

constexpr double kTol = 1e-5;

// Eager logits [1, N, V] for tokens at positions 0..N-1.
ir::Tensor EagerLogits(const ir::Graph& eager,
                       const std::vector<int64_t>& ids) {
  int64_t n = static_cast<int64_t>(ids.size());
  std::vector<int64_t> pos(n);
  for (int64_t i = 0; i < n; ++i) pos[i] = i;
  auto out = ir::Evaluator::Run(
      eager, {{"input_ids", ir::Tensor::I64({1, n}, ids)},
              {"position_ids", ir::Tensor::I64({1, n}, pos)}});
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? (*out)[0] : ir::Tensor();
}

double MaxDiffAt(const ir::Tensor& eager, int64_t position,
                 const ir::Tensor& got) {
  int64_t v = eager.dims()[2];
  double worst = 0;
  for (int64_t j = 0; j < v; ++j)
    worst = std::max(
        worst, std::fabs(eager.GetDouble(position * v + j) - got.GetDouble(j)));
  return worst;
}

void CheckTransformMatchesEager(const ir::Graph& eager,
                                const std::vector<int64_t>& ids,
                                int64_t ctx_len) {
  ir::Tensor ref = EagerLogits(eager, ids);
  ASSERT_EQ(ref.rank(), 3);
  auto device = hw::MakeReferenceDevice();
  const int64_t n = static_cast<int64_t>(ids.size());

  // One token at a time: "Prefill" with seq_len 1 for the first, then decode.
  {
    auto compiled = engine::CompileLM(
        eager, *device, hw::PrefillDecodeSpecializations(1, 1, ctx_len), {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    auto session = device->Load(compiled->program);
    ASSERT_TRUE(session.ok()) << session.status();
    engine::Generator gen(session->get());
    engine::GenerationOptions o;
    o.prefill_seq_len = 1;
    o.ctx_len = ctx_len;
    auto first = gen.Prefill({ids[0]}, o);
    ASSERT_TRUE(first.ok()) << first.status();
    double worst = MaxDiffAt(ref, 0, *first);
    for (int64_t p = 1; p < n; ++p) {
      auto l = gen.Decode(ids[p], p);
      ASSERT_TRUE(l.ok()) << l.status();
      worst = std::max(worst, MaxDiffAt(ref, p, *l));
    }
    std::printf("stepped %lld tokens: max |diff| %.3g\n",
                static_cast<long long>(n), worst);
    EXPECT_LE(worst, kTol);
  }
  // Chunks of 8: the logits at each chunk's last (valid) position.
  {
    auto compiled = engine::CompileLM(
        eager, *device, hw::PrefillDecodeSpecializations(1, 8, ctx_len), {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    auto session = device->Load(compiled->program);
    ASSERT_TRUE(session.ok()) << session.status();
    engine::Generator gen(session->get());
    engine::GenerationOptions o;
    o.prefill_seq_len = 8;
    o.ctx_len = ctx_len;
    double worst = 0;
    for (int64_t end = 8; end < n + 8; end += 8) {
      int64_t len = std::min(end, n);
      auto l =
          gen.Prefill(std::vector<int64_t>(ids.begin(), ids.begin() + len), o);
      ASSERT_TRUE(l.ok()) << l.status();
      worst = std::max(worst, MaxDiffAt(ref, len - 1, *l));
    }
    std::printf("chunks of 8 over %lld tokens: max |diff| %.3g\n",
                static_cast<long long>(n), worst);
    EXPECT_LE(worst, kTol);
  }
}

TEST(WalkingSkeleton, SeededModelTransformMatchesEager) {
  models::LlamaConfig c;
  models::TestModelSpec spec;
  models::WeightMap w = models::MakeTestWeights(spec, &c);
  auto eager = models::BuildLlamaEager(c, w);
  ASSERT_TRUE(eager.ok()) << eager.status();
  std::vector<int64_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back((i * 37 + 5) % c.vocab_size);
  // ctx_len == prompt length, not a multiple of the chunk length 8.
  CheckTransformMatchesEager(*eager, ids, 20);
}

// Every test architecture: GQA Llama, Mistral (sliding window 8, prompt of
// 20 so the window masks), Qwen2 (biases, tied), GPT-2 (learned positions).
class ArchTransform : public ::testing::TestWithParam<std::string> {};

TEST_P(ArchTransform, TransformMatchesEager) {
  models::TestModelSpec spec;
  spec.arch = GetParam();
  spec.seed = models::DefaultTestSeed(spec.arch);
  auto m = models::MakeTestModel(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  auto eager = models::BuildEager(m->config, m->Weights());
  ASSERT_TRUE(eager.ok()) << eager.status();
  std::vector<int64_t> ids = models::TestPromptIds();
  while (ids.size() < 20)
    ids.push_back((ids.size() * 31 + 3) % m->config.vocab_size);
  ids.resize(20);
  CheckTransformMatchesEager(*eager, ids, 20);
}

INSTANTIATE_TEST_SUITE_P(Architectures, ArchTransform,
                         ::testing::Values("llama", "mistral", "qwen2", "gpt2",
                                           "gemma3_text", "llama4_text",
                                           "grok-1"));

// ---- rope scaling (llama; max_position_embeddings 16, 20 tokens) ----

models::TestModelSpec RopeScalingSpec(models::RopeScaling::Type type) {
  models::TestModelSpec spec;
  spec.seed = models::DefaultTestSeed("llama");
  spec.max_position_embeddings = 16;
  spec.rope_scaling.type = type;
  spec.rope_scaling.factor = 2.0f;
  if (type == models::RopeScaling::Type::kLlama3) {
    spec.rope_scaling.factor = 8.0f;
    spec.rope_scaling.low_freq_factor = 1.0f;
    spec.rope_scaling.high_freq_factor = 4.0f;
    spec.rope_scaling.original_max_position_embeddings = 16;
  }
  return spec;
}

std::vector<int64_t> RopeIds(int64_t vocab) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back((i * 37 + 5) % vocab);
  return ids;
}

TEST(WalkingSkeleton, RopeScalingLinearTransformMatchesEager) {
  models::LlamaConfig c;
  models::WeightMap w = models::MakeTestWeights(
      RopeScalingSpec(models::RopeScaling::Type::kLinear), &c);
  auto eager = models::BuildLlamaEager(c, w);
  ASSERT_TRUE(eager.ok()) << eager.status();
  CheckTransformMatchesEager(*eager, RopeIds(c.vocab_size), 20);
}

TEST(WalkingSkeleton, RopeScalingLlama3TransformMatchesEager) {
  models::LlamaConfig c;
  models::WeightMap w = models::MakeTestWeights(
      RopeScalingSpec(models::RopeScaling::Type::kLlama3), &c);
  auto eager = models::BuildLlamaEager(c, w);
  ASSERT_TRUE(eager.ok()) << eager.status();
  CheckTransformMatchesEager(*eager, RopeIds(c.vocab_size), 20);
}

// Dynamic NTK computes inv_freq from the call's length max(position_ids) + 1
// (transformers' dynamic_rope_update). The eager graph over a prefix of
// length L rotates every key with inv_freq(L); the transformed graph
// rotates each call's new keys with that call's inv_freq and keeps cached
// keys as written (transformers' cached generation; tests/reference checks
// it against PyTorch). So: one call over the whole prefix equals the eager
// prefix exactly; stepping equals it while L <= max_position_embeddings
// (inv_freq unscaled) and differs beyond.
TEST(WalkingSkeleton, RopeScalingDynamicTransformVsEager) {
  models::LlamaConfig c;
  models::WeightMap w = models::MakeTestWeights(
      RopeScalingSpec(models::RopeScaling::Type::kDynamic), &c);
  auto eager = models::BuildLlamaEager(c, w);
  ASSERT_TRUE(eager.ok()) << eager.status();
  const std::vector<int64_t> ids = RopeIds(c.vocab_size);
  const int64_t n = static_cast<int64_t>(ids.size());
  // Eager logits at the last position of each prefix 1..n.
  std::vector<ir::Tensor> prefix(n + 1);
  for (int64_t len = 1; len <= n; ++len)
    prefix[len] = EagerLogits(
        *eager, std::vector<int64_t>(ids.begin(), ids.begin() + len));
  auto device = hw::MakeReferenceDevice();
  // The whole prefix in one (padded) prefill call.
  {
    auto compiled = engine::CompileLM(
        *eager, *device, hw::PrefillDecodeSpecializations(1, 24, 24), {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    auto session = device->Load(compiled->program);
    ASSERT_TRUE(session.ok()) << session.status();
    engine::Generator gen(session->get());
    engine::GenerationOptions o;
    o.prefill_seq_len = 24;
    o.ctx_len = 24;
    double worst = 0;
    for (int64_t len : {5, 16, 17, 20}) {
      auto l =
          gen.Prefill(std::vector<int64_t>(ids.begin(), ids.begin() + len), o);
      ASSERT_TRUE(l.ok()) << l.status();
      worst = std::max(worst, MaxDiffAt(prefix[len], len - 1, *l));
    }
    std::printf("dynamic, one call per prefix: max |diff| %.3g\n", worst);
    EXPECT_LE(worst, kTol);
  }
  // One token at a time.
  {
    auto compiled = engine::CompileLM(
        *eager, *device, hw::PrefillDecodeSpecializations(1, 1, n), {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    auto session = device->Load(compiled->program);
    ASSERT_TRUE(session.ok()) << session.status();
    engine::Generator gen(session->get());
    engine::GenerationOptions o;
    o.prefill_seq_len = 1;
    o.ctx_len = n;
    auto l = gen.Prefill({ids[0]}, o);
    double within = 0, beyond = 0;
    for (int64_t p = 0; p < n; ++p) {
      if (p > 0) l = gen.Decode(ids[p], p);
      ASSERT_TRUE(l.ok()) << l.status();
      const double d = MaxDiffAt(prefix[p + 1], p, *l);
      if (p + 1 <= c.max_position_embeddings)
        within = std::max(within, d);
      else
        beyond = std::max(beyond, d);
    }
    std::printf(
        "dynamic, stepped: max |diff| vs eager prefix %.3g up to length 16, "
        "%.3g beyond (cached keys keep their rotation)\n",
        within, beyond);
    EXPECT_LE(within, kTol);
    EXPECT_GT(beyond, 1e-3);
  }
}

TEST(WalkingSkeleton, Stories260KTransformMatchesEager) {
  auto m = models::Load(testing::Stories260KGguf());
  ASSERT_TRUE(m.ok()) << m.status();
  auto ids = m->tokenizer->Encode(
      "Once upon a time, there was a little girl named Lily.", true);
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<int64_t> v(ids->begin(), ids->end());
  CheckTransformMatchesEager(m->eager, v, 32);
}

}  // namespace
}  // namespace qeff
