// models::Load on seeded test models: HF folders of every architecture,
// GGUF vs safetensors of the same weights, the default seeds' top-1
// margins, hub ids, and bad-input errors.
#include "models/model_loader.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "models/test_model.h"

namespace qeff::models {
namespace {

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

// Logits [S, V] of the eager graph for one sequence.
std::vector<std::vector<float>> EagerLogits(ir::Graph g,
                                            const std::vector<int64_t>& ids) {
  EXPECT_TRUE(ir::InferShapes(g).ok());
  const int64_t s = static_cast<int64_t>(ids.size());
  std::vector<int64_t> pos(s);
  for (int64_t i = 0; i < s; ++i) pos[i] = i;
  auto out =
      ir::Evaluator::Run(g, {{"input_ids", ir::Tensor::I64({1, s}, ids)},
                             {"position_ids", ir::Tensor::I64({1, s}, pos)}});
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  std::vector<float> flat = (*out)[0].ToFloats();
  const int64_t v = (*out)[0].dims()[2];
  std::vector<std::vector<float>> rows(s);
  for (int64_t i = 0; i < s; ++i)
    rows[i].assign(flat.begin() + i * v, flat.begin() + (i + 1) * v);
  return rows;
}

class ArchTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ArchTest, LoadsHfFolderWithConfigs) {
  TestModelSpec spec;
  spec.arch = GetParam();
  spec.seed = DefaultTestSeed(spec.arch);
  const std::string dir = TmpDir("hf_" + spec.arch);
  ASSERT_TRUE(WriteTestModelHf(spec, dir).ok());
  auto m = Load(dir);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->config.model_type, spec.arch);
  EXPECT_EQ(m->config.vocab_size, 452);
  ASSERT_TRUE(m->generation.has_value());
  EXPECT_EQ(m->generation->eos_token_ids, std::vector<int64_t>{2});
  // Weights are windows of the mapped file, not copies.
  for (const auto& [name, t] : m->weights)
    EXPECT_TRUE(t.buffer()->is_mapped()) << name;
  // The same graph as built from the in-memory weights.
  auto tm = MakeTestModel(spec);
  ASSERT_TRUE(tm.ok());
  auto direct = BuildEager(tm->config, tm->Weights());
  ASSERT_TRUE(direct.ok()) << direct.status();
  auto a = EagerLogits(m->eager, TestPromptIds());
  auto b = EagerLogits(*direct, TestPromptIds());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a, b);
}

// The default seeds give greedy continuations with a clear top-1 margin,
// so exact-token comparisons are not decided by rounding.
TEST_P(ArchTest, DefaultSeedHasClearTopOneMargin) {
  TestModelSpec spec;
  spec.arch = GetParam();
  spec.seed = DefaultTestSeed(spec.arch);
  auto tm = MakeTestModel(spec);
  ASSERT_TRUE(tm.ok());
  auto g = BuildEager(tm->config, tm->Weights());
  ASSERT_TRUE(g.ok()) << g.status();
  std::vector<int64_t> ids = TestPromptIds();
  double min_margin = 1e9;
  std::set<int64_t> distinct;
  for (int step = 0; step < 32; ++step) {
    auto rows = EagerLogits(*g, ids);
    ASSERT_FALSE(rows.empty());
    const std::vector<float>& last = rows.back();
    int64_t best = 0;
    for (int64_t j = 1; j < static_cast<int64_t>(last.size()); ++j)
      if (last[j] > last[best]) best = j;
    float second = -1e30f;
    for (int64_t j = 0; j < static_cast<int64_t>(last.size()); ++j)
      if (j != best) second = std::max(second, last[j]);
    min_margin = std::min(min_margin, double(last[best]) - second);
    ids.push_back(best);
    distinct.insert(best);
  }
  std::printf("%s seed %llu: min top-1 margin over 32 steps %.4g\n",
              spec.arch.c_str(), static_cast<unsigned long long>(spec.seed),
              min_margin);
  EXPECT_GE(min_margin, 1e-3);
  EXPECT_GE(distinct.size(), 3u) << "degenerate continuation";
}

INSTANTIATE_TEST_SUITE_P(All, ArchTest,
                         ::testing::Values("llama", "mistral", "qwen2", "gpt2",
                                           "gemma3_text", "llama4_text"));

class GgufTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTest, GgufAndSafetensorsGiveTheSameLogits) {
  TestModelSpec spec;
  spec.arch = GetParam();
  const std::string dir = TmpDir("gguf_" + spec.arch);
  ASSERT_TRUE(WriteTestModelHf(spec, dir, /*also_gguf=*/true).ok());
  auto hf = Load(dir);
  ASSERT_TRUE(hf.ok()) << hf.status();
  auto gg = Load(dir + "/model.gguf");
  ASSERT_TRUE(gg.ok()) << gg.status();
  EXPECT_EQ(gg->config.model_type, spec.arch);
  EXPECT_EQ(gg->config.llama.sliding_window, hf->config.llama.sliding_window);
  EXPECT_NE(gg->tokenizer, nullptr);
  auto a = EagerLogits(hf->eager, TestPromptIds());
  auto b = EagerLogits(gg->eager, TestPromptIds());
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[i].size(); ++j)
      worst = std::max(worst, std::fabs(double(a[i][j]) - b[i][j]));
  EXPECT_EQ(worst, 0.0);
}

INSTANTIATE_TEST_SUITE_P(LlamaFamily, GgufTest,
                         ::testing::Values("llama", "mistral", "qwen2"));

// The HF folder's tokenizer.json and the GGUF's vocabulary give the same
// prompt ids (and text back).
TEST_P(GgufTest, HfTokenizerJsonAndGgufGiveTheSameIds) {
  TestModelSpec spec;
  spec.arch = GetParam();
  const std::string dir = TmpDir("gguf_tok_" + spec.arch);
  ASSERT_TRUE(WriteTestModelHf(spec, dir, /*also_gguf=*/true).ok());
  auto hf = Load(dir);
  ASSERT_TRUE(hf.ok()) << hf.status();
  auto gg = Load(dir + "/model.gguf");
  ASSERT_TRUE(gg.ok()) << gg.status();
  ASSERT_NE(hf->tokenizer, nullptr);
  ASSERT_NE(gg->tokenizer, nullptr);
  const Tokenizer& a = *hf->tokenizer;
  const Tokenizer& b = *gg->tokenizer;
  EXPECT_TRUE(a.add_bos_by_default());
  EXPECT_EQ(a.add_bos_by_default(), b.add_bos_by_default());
  EXPECT_EQ(a.bos_id(), b.bos_id());
  EXPECT_EQ(a.eos_id(), b.eos_id());
  EXPECT_EQ(a.vocab_size(), hf->config.vocab_size);
  for (const char* text :
       {"Once upon a time, there was a little girl named Lily.",
        "the the  THE\n\tdog!? caf\xc3\xa9 \xe2\x9c\x85", "", " x",
        "<s> is text"}) {
    auto ia = a.Encode(text, true);
    auto ib = b.Encode(text, true);
    ASSERT_TRUE(ia.ok() && ib.ok()) << text;
    EXPECT_EQ(*ia, *ib) << text;
    EXPECT_EQ(*a.Decode(*ia), text);
  }
}

TEST(LoadTest, Gpt2FolderHasAByteLevelTokenizer) {
  TestModelSpec spec;
  spec.arch = "gpt2";
  const std::string dir = TmpDir("gpt2_tok");
  ASSERT_TRUE(WriteTestModelHf(spec, dir).ok());
  auto m = Load(dir);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_NE(m->tokenizer, nullptr);
  const Tokenizer& t = *m->tokenizer;
  EXPECT_EQ(t.vocab_size(), m->config.vocab_size);
  EXPECT_FALSE(t.add_bos_by_default());
  EXPECT_EQ(t.eos_id(), 2);
  auto ids = t.Encode("once upon a time", false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  // Merged: far fewer ids than the 16 bytes (" upon" is " up" + "on": the
  // "o n" merge ranks before " up o", as BPE ranks go).
  EXPECT_EQ(ids->size(), 5u) << absl::StrJoin(*ids, " ");
  for (int32_t id : *ids) EXPECT_LT(id, t.vocab_size());
  auto text = t.Decode(*ids);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "once upon a time");
}

TEST(LoadTest, MistralWindowChangesLogitsPastTheWindow) {
  TestModelSpec spec;
  spec.arch = "mistral";
  auto tm = MakeTestModel(spec);
  ASSERT_TRUE(tm.ok());
  ModelConfig no_window = tm->config;
  no_window.llama.sliding_window = 0;
  auto a = EagerLogits(*BuildEager(tm->config, tm->Weights()), TestPromptIds());
  auto b = EagerLogits(*BuildEager(no_window, tm->Weights()), TestPromptIds());
  const int64_t w = tm->config.llama.sliding_window;
  ASSERT_GT(static_cast<int64_t>(a.size()), w);
  EXPECT_EQ(a[w - 1], b[w - 1]);  // position W-1 still sees everything
  EXPECT_NE(a[w], b[w]);          // position W no longer sees position 0
}

TEST(LoadTest, HubIdResolvesOfflineCache) {
  const std::string cache = TmpDir("hub");
  const std::string snap = cache + "/models--qeff--tiny-llama/snapshots/abc123";
  TestModelSpec spec;
  ASSERT_TRUE(WriteTestModelHf(spec, snap).ok());
  ASSERT_EQ(std::system(("mkdir -p " + cache +
                         "/models--qeff--tiny-llama/refs && "
                         "echo abc123 > " +
                         cache + "/models--qeff--tiny-llama/refs/main")
                            .c_str()),
            0);
  LoadOptions o;
  o.hub_cache_dir = cache;
  auto m = Load("qeff/tiny-llama", o);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->source, snap);
  auto missing = Load("qeff/absent-model", o);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("offline cache"),
            std::string::npos);
}

TEST(LoadTest, UnknownArchitectureListsSupported) {
  const std::string dir = TmpDir("unknown_arch");
  TestModelSpec spec;
  ASSERT_TRUE(WriteTestModelHf(spec, dir).ok());
  std::ofstream(dir + "/config.json")
      << R"({"model_type": "falcon", "architectures": ["FalconForCausalLM"]})";
  auto m = Load(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(m.status().message().find("falcon"), std::string::npos);
  EXPECT_NE(m.status().message().find("qwen2 (Qwen2ForCausalLM)"),
            std::string::npos)
      << m.status();
}

TEST(LoadTest, ConfigMissingFieldIsNamed) {
  const std::string dir = TmpDir("missing_field");
  TestModelSpec spec;
  ASSERT_TRUE(WriteTestModelHf(spec, dir).ok());
  std::ofstream(dir + "/config.json")
      << R"({"model_type": "llama", "vocab_size": 452, "hidden_size": 64,
             "num_hidden_layers": 2, "num_attention_heads": 4})";
  auto m = Load(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find(
                "config.json: field 'intermediate_size' is missing"),
            std::string::npos)
      << m.status();
}

TEST(LoadTest, UnexpectedBiasIsNamed) {
  const std::string dir = TmpDir("wrong_shape");
  TestModelSpec spec;
  ASSERT_TRUE(WriteTestModelHf(spec, dir).ok());
  TestModelSpec other = spec;
  other.arch = "qwen2";  // same sizes, plus q/k/v biases
  ASSERT_TRUE(WriteTestModelHf(other, dir + "_q").ok());
  // Point a llama config at the qwen2 weights: the q/k/v biases are extra.
  std::ifstream src(dir + "/config.json");
  std::string cfg((std::istreambuf_iterator<char>(src)), {});
  std::ofstream(dir + "_q/config.json") << cfg;
  auto m = Load(dir + "_q");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("q_proj.bias"), std::string::npos)
      << m.status();
}

}  // namespace
}  // namespace qeff::models
