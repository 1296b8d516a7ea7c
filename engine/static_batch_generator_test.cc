#include "engine/static_batch_generator.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/generator.h"
#include "engine/generator_testing.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "hw/specialization.h"
#include "models/arch/registry.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

constexpr int64_t kSeqLen = 4;
constexpr int64_t kCtxLen = 32;
constexpr int64_t kBatch = 3;

using testing::CountingSession;

// The seeded llama test model (one transformed graph, no continuous
// batching) compiled twice on one device: batch 1 for engine::Generator and
// batch kBatch for the static-batch generator.
struct Programs {
  std::unique_ptr<hw::Device> device;
  std::shared_ptr<const hw::Program> solo, batch;
  int64_t vocab_size = 0;
};

Programs Compile(const std::string& device) {
  Programs p;
  models::TestModelSpec spec;
  spec.seed = models::DefaultTestSeed(spec.arch);
  auto m = models::MakeTestModel(spec);
  QEFF_CHECK(m.ok());
  p.vocab_size = m->config.vocab_size;
  auto eager = models::BuildEager(m->config, m->Weights());
  QEFF_CHECK(eager.ok());
  auto graph = TransformForDevice(*eager, {});
  QEFF_CHECK(graph.ok());
  auto dev = hw::OpenDevice(device);
  QEFF_CHECK(dev.ok());
  p.device = *std::move(dev);
  auto sp = p.device->Compile(
      *graph, hw::CausalLMSpecializations(kSeqLen, kCtxLen, 1, 0), {});
  QEFF_CHECK(sp.ok());
  p.solo = *sp;
  auto bp = p.device->Compile(
      *graph, hw::CausalLMSpecializations(kSeqLen, kCtxLen, kBatch, 0), {});
  QEFF_CHECK(bp.ok());
  p.batch = *bp;
  return p;
}

std::vector<int64_t> Prompt(int k, int len, int64_t vocab) {
  return testing::TestPrompt(k, len, vocab);
}

// Five prompts: group 0 holds lengths 2, 5, 9 (last token in chunk 0, 1
// and 2 of S = 4); group 1 holds 8 (an exact multiple of S) and 3, plus one
// filler row.
std::vector<std::vector<int64_t>> FivePrompts(int64_t vocab) {
  const int lens[5] = {2, 5, 9, 8, 3};
  std::vector<std::vector<int64_t>> prompts;
  for (int k = 0; k < 5; ++k) prompts.push_back(Prompt(k, lens[k], vocab));
  return prompts;
}

// What engine::Generator gives each prompt alone on the batch-1 program.
std::vector<GenerationResult> SoloRuns(
    const Programs& p, const std::vector<std::vector<int64_t>>& prompts,
    int64_t generation_len, int64_t eos_id) {
  auto session = p.device->Load(p.solo);
  QEFF_CHECK(session.ok());
  Generator gen(session->get());
  std::vector<GenerationResult> out;
  for (const auto& prompt : prompts) {
    GenerationOptions go;
    go.prefill_seq_len = kSeqLen;
    go.ctx_len = kCtxLen;
    go.generation_len = generation_len;
    go.eos_id = eos_id;
    auto g = gen.Generate(prompt, go);
    QEFF_CHECK(g.ok());
    out.push_back(*g);
  }
  return out;
}

StaticBatchOptions Options(const Programs& p) {
  auto o = StaticBatchOptionsFor(p.batch->specializations());
  QEFF_CHECK(o.ok());
  return *o;
}

class StaticBatchGeneratorTest : public ::testing::TestWithParam<std::string> {
};

TEST_P(StaticBatchGeneratorTest, GroupsOfThreeMatchSoloRuns) {
  Programs p = Compile(GetParam());
  const std::vector<std::vector<int64_t>> prompts = FivePrompts(p.vocab_size);
  const int64_t gen_len = 8;
  std::vector<GenerationResult> solo = SoloRuns(p, prompts, gen_len, -1);
  auto inner = p.device->Load(p.batch);
  ASSERT_TRUE(inner.ok()) << inner.status();
  CountingSession session(inner->get());
  StaticBatchOptions o = Options(p);
  EXPECT_EQ(o.batch_size, kBatch);
  EXPECT_EQ(o.prefill_seq_len, kSeqLen);
  EXPECT_EQ(o.ctx_len, kCtxLen);
  std::vector<std::vector<int64_t>> streamed(prompts.size() + 1);
  o.on_token = [&](size_t i, int64_t t) {
    ASSERT_LT(i, prompts.size());
    streamed[i].push_back(t);
  };
  StaticBatchGenerator gen(&session, o);
  auto r = gen.Generate(prompts, gen_len, -1);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    const GenerationResult& g = (*r)[i];
    EXPECT_EQ(g.token_ids, solo[i].token_ids) << "prompt " << i;
    EXPECT_EQ(static_cast<int64_t>(g.token_ids.size()), gen_len);
    EXPECT_EQ(streamed[i], g.token_ids) << "prompt " << i;
    EXPECT_FALSE(g.stopped_at_eos);
    EXPECT_FALSE(g.stopped_at_ctx_len);
    EXPECT_GT(g.stats.ttft_s, 0);
    EXPECT_GE(g.stats.e2e_s, g.stats.ttft_s);
    EXPECT_GT(g.stats.decode_tok_s, 0);
  }
  EXPECT_TRUE(streamed[prompts.size()].empty());
  // The prompts differ, and so do their continuations (the comparison is not
  // trivially satisfied by one row's tokens).
  EXPECT_NE(solo[0].token_ids, solo[1].token_ids);
  EXPECT_NE(solo[1].token_ids, solo[2].token_ids);
  // Two groups: one reset each; ceil(9/4) + ceil(8/4) prefill chunks and
  // gen_len - 1 decode steps per group.
  EXPECT_EQ(session.resets, 2);
  EXPECT_EQ(session.runs, 3 + 2 + 2 * (gen_len - 1));

  // The same session serves another call (state reset per group).
  auto again = gen.Generate(prompts, gen_len, -1);
  ASSERT_TRUE(again.ok()) << again.status();
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ((*again)[i].token_ids, solo[i].token_ids) << "prompt " << i;

  // Reversed order: each prompt lands in another row and group.
  std::vector<std::vector<int64_t>> reversed(prompts.rbegin(), prompts.rend());
  auto rev = gen.Generate(reversed, gen_len, -1);
  ASSERT_TRUE(rev.ok()) << rev.status();
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ((*rev)[prompts.size() - 1 - i].token_ids, solo[i].token_ids)
        << "prompt " << i;

  // No prompts: no results, no device work.
  session.runs = session.resets = 0;
  auto empty = gen.Generate({}, gen_len, -1);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(session.runs, 0);
  EXPECT_EQ(session.resets, 0);
}

TEST_P(StaticBatchGeneratorTest, EosStopsOneRowOnly) {
  Programs p = Compile(GetParam());
  const std::vector<std::vector<int64_t>> prompts = FivePrompts(p.vocab_size);
  const int64_t gen_len = 12;
  std::vector<GenerationResult> full = SoloRuns(p, prompts, gen_len, -1);
  // eos: a token row k of group 0 emits first at step j (2 <= j < 8) while
  // another row m of group 0 never emits it, so k stops early and m runs to
  // the end.
  int64_t eos = -1;
  size_t k = 0, m = 0;
  int64_t j = 0;
  for (size_t a = 0; a < 3 && eos < 0; ++a) {
    const std::vector<int64_t>& t = full[a].token_ids;
    for (int64_t s = 2; s < 8 && eos < 0; ++s) {
      if (std::find(t.begin(), t.begin() + s, t[s]) != t.begin() + s) continue;
      for (size_t b = 0; b < 3; ++b) {
        const std::vector<int64_t>& u = full[b].token_ids;
        if (b != a && std::find(u.begin(), u.end(), t[s]) == u.end()) {
          eos = t[s];
          k = a;
          m = b;
          j = s;
          break;
        }
      }
    }
  }
  ASSERT_GE(eos, 0) << "no usable eos in the solo runs";
  std::vector<GenerationResult> solo = SoloRuns(p, prompts, gen_len, eos);
  auto session = p.device->Load(p.batch);
  ASSERT_TRUE(session.ok());
  StaticBatchGenerator gen(session->get(), Options(p));
  auto r = gen.Generate(prompts, gen_len, eos);
  ASSERT_TRUE(r.ok()) << r.status();
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ((*r)[i].token_ids, solo[i].token_ids) << "prompt " << i;
    EXPECT_EQ((*r)[i].stopped_at_eos, solo[i].stopped_at_eos) << "prompt " << i;
  }
  EXPECT_TRUE((*r)[k].stopped_at_eos);
  EXPECT_EQ(static_cast<int64_t>((*r)[k].token_ids.size()), j + 1);
  EXPECT_EQ((*r)[k].token_ids.back(), eos);
  EXPECT_FALSE((*r)[m].stopped_at_eos);
  EXPECT_EQ((*r)[m].token_ids, full[m].token_ids);
}

TEST_P(StaticBatchGeneratorTest, BadInputNamesThePromptBeforeAnyWork) {
  Programs p = Compile(GetParam());
  auto inner = p.device->Load(p.batch);
  ASSERT_TRUE(inner.ok());
  CountingSession session(inner->get());
  StaticBatchGenerator gen(&session, Options(p));
  auto expect_error = [&](const std::vector<std::vector<int64_t>>& prompts,
                          int64_t gen_len, const std::string& what) {
    auto r = gen.Generate(prompts, gen_len, -1);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status();
  };
  std::vector<std::vector<int64_t>> prompts = FivePrompts(p.vocab_size);
  // Prompt 4 (in the second group, 30 tokens): 30 + 4 - 1 = 33 > 32, found
  // before group 0 runs; prompt 2 (9 tokens) is the first to fail at 25.
  auto bad = prompts;
  bad[4] = Prompt(4, 30, p.vocab_size);
  expect_error(bad, 4, "prompt 4: a prompt of 30 tokens and 4");
  expect_error(prompts, 25, "prompt 2: a prompt of 9 tokens");
  expect_error(prompts, 25, "need ctx_len >= 33");
  bad = prompts;
  bad[3] = Prompt(3, kCtxLen + 1, p.vocab_size);
  expect_error(bad, 1, "prompt 3: ");
  bad = prompts;
  bad[1].clear();
  expect_error(bad, 4, "prompt 1: the prompt is empty");
  expect_error(prompts, 0, "prompt 0: generation_len must be positive");
  EXPECT_EQ(session.runs, 0);
  EXPECT_EQ(session.resets, 0);
  // Exactly ctx_len is fine: 9 + 24 - 1 = 32.
  auto ok = gen.Generate(prompts, 24, -1);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[2].token_ids.size(), 24u);

  // Options that do not fit: batch_size 0; a batch-1 session with batch-3
  // options (the device rejects the shapes; the error names the group).
  StaticBatchOptions o = Options(p);
  o.batch_size = 0;
  auto r = StaticBatchGenerator(&session, o).Generate(prompts, 4, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("batch_size must be positive"),
            std::string::npos)
      << r.status();
  auto solo = p.device->Load(p.solo);
  ASSERT_TRUE(solo.ok());
  r = StaticBatchGenerator(solo->get(), Options(p)).Generate(prompts, 4, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.status().message().find("group 0 (prompts 0..2): prefill chunk 0:"),
      std::string::npos)
      << r.status();
}

INSTANTIATE_TEST_SUITE_P(Devices, StaticBatchGeneratorTest,
                         ::testing::Values("cpu", "reference"));

TEST(StaticBatchOptionsFor, ReadsAndChecksSpecializations) {
  auto o = StaticBatchOptionsFor(hw::CausalLMSpecializations(4, 32, 3, 0));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->batch_size, 3);
  EXPECT_EQ(o->prefill_seq_len, 4);
  EXPECT_EQ(o->ctx_len, 32);

  auto expect_error = [](std::vector<hw::Specialization> specs,
                         const std::vector<std::string>& parts) {
    auto r = StaticBatchOptionsFor(specs);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& part : parts)
      EXPECT_NE(r.status().message().find(part), std::string::npos)
          << r.status() << " lacks " << part;
  };
  auto specs = hw::CausalLMSpecializations(4, 32, 3, 0);
  specs[1].symbols["batch_size"] = 2;
  expect_error(specs, {"'Decode'", "batch_size 2", "Prefill's 3"});
  specs = hw::CausalLMSpecializations(4, 32, 3, 0);
  specs[1].symbols["seq_len"] = 4;
  expect_error(specs, {"'Decode'", "seq_len is 4"});
  specs = hw::CausalLMSpecializations(4, 32, 3, 0);
  specs[1].symbols["ctx_len"] = 64;
  expect_error(specs, {"'Decode'", "ctx_len 64"});
  specs = hw::CausalLMSpecializations(4, 32, 3, 0);
  specs[0].symbols.erase("seq_len");
  expect_error(specs, {"'Prefill' does not bind 'seq_len'"});
  specs = hw::CausalLMSpecializations(4, 32, 3, 0);
  specs[1].symbols.erase("batch_size");
  expect_error(specs, {"'Decode' does not bind 'batch_size'"});
  specs = hw::CausalLMSpecializations(4, 32, 3, 0);
  specs.pop_back();
  expect_error(specs, {"'Prefill' and 'Decode'"});
  // A continuous-batching pair is not a static-batch program.
  expect_error(hw::CausalLMSpecializations(4, 32, 1, 3),
               {"'Prefill'", "full_batch_size"});
}

}  // namespace
}  // namespace qeff::engine
