// Grok-1 loading: config.json parsing (HPC-AI Tech's Grok1Config and its
// defaults), PyTorch pickle weights refused by name, and the llama.cpp
// `grok` GGUF: the same logits as the HF folder once llama.cpp's two
// departures (renormalised top-k expert weights, tanh GELU) are applied to
// the folder's config, llama.cpp's defaults for absent keys, Grok-2's dense
// FFN refused.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "models/arch/registry.h"
#include "models/model_loader.h"
#include "models/test_model.h"

namespace qeff::models {
namespace {

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

absl::StatusOr<ModelConfig> Parse(const std::string& json) {
  auto j = base::ParseJson(json);
  if (!j.ok()) return j.status();
  return ParseHfModelConfig(*j, "config.json");
}

std::vector<float> Logits(ir::Graph g, const std::vector<int64_t>& ids) {
  EXPECT_TRUE(ir::InferShapes(g).ok());
  const int64_t s = static_cast<int64_t>(ids.size());
  std::vector<int64_t> pos(s);
  for (int64_t i = 0; i < s; ++i) pos[i] = i;
  auto r =
      ir::Evaluator::Run(g, {{"input_ids", ir::Tensor::I64({1, s}, ids)},
                             {"position_ids", ir::Tensor::I64({1, s}, pos)}});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? (*r)[0].ToFloats() : std::vector<float>{};
}

// Replaces the first `from` after the GGUF header by `to` (same length).
void PatchFile(const std::string& path, const std::string& from,
               const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  size_t at = bytes.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  bytes.replace(at, from.size(), to);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(GrokConfig, RealGrok1Config) {
  // hpcai-tech/grok-1's config.json.
  auto m = Parse(R"({"architectures": ["Grok1ModelForCausalLM"],
    "attn_output_multiplier": 0.08838834764831845, "bos_token_id": 1,
    "embedding_multiplier_scale": 78.38367176906169, "eos_token_id": 2,
    "hidden_size": 6144, "intermediate_size": 32768, "max_attn_value": 30.0,
    "max_position_embeddings": 8192, "model_type": "grok-1",
    "num_attention_heads": 48, "num_experts": 8, "num_experts_per_tok": 2,
    "num_hidden_layers": 64, "num_key_value_heads": 8,
    "output_multiplier_scale": 0.5773502691896257, "pad_token_id": 0,
    "rms_norm_eps": 1e-05, "torch_dtype": "bfloat16", "use_cache": true,
    "vocab_size": 131072})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->family, ModelFamily::kGrok);
  EXPECT_EQ(m->architecture, "Grok1ModelForCausalLM");
  const GrokConfig& c = m->grok;
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(m->head_dim, 128);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.num_experts, 8);
  EXPECT_EQ(c.num_experts_per_tok, 2);
  EXPECT_FLOAT_EQ(c.max_attn_value, 30.0f);
  EXPECT_FLOAT_EQ(c.attn_output_multiplier, 0.08838834764831845f);
  EXPECT_FLOAT_EQ(c.embedding_multiplier_scale, 78.38367176906169f);
  EXPECT_FLOAT_EQ(c.output_multiplier_scale, 0.5773502691896257f);
  EXPECT_FLOAT_EQ(c.rope_theta, 10000.0f);
  EXPECT_TRUE(c.tie_word_embeddings);  // Grok1Config's default
  EXPECT_FALSE(c.norm_topk_prob);
  EXPECT_EQ(c.expert_activation, 1);  // nn.GELU(): exact
}

TEST(GrokConfig, DefaultsAndRefusals) {
  auto m = Parse(R"({"model_type": "grok-1"})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->grok.vocab_size, 32000);
  EXPECT_EQ(m->grok.num_key_value_heads, 32);
  EXPECT_FLOAT_EQ(m->grok.max_attn_value, 1.0f);
  auto bad = Parse(R"({"model_type": "grok-1", "rope_scaling":
    {"rope_type": "linear", "factor": 2.0}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rope_scaling"), std::string::npos);
  bad = Parse(R"({"model_type": "grok-1", "num_experts_per_tok": 9})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("num_experts_per_tok 9"),
            std::string::npos)
      << bad.status();
}

TEST(GrokLoad, PickleWeightsAreRefusedByName) {
  TestModelSpec spec;
  spec.arch = "grok-1";
  const std::string dir = TmpDir("grok_pickle");
  ASSERT_TRUE(WriteTestModelHf(spec, dir).ok());
  ASSERT_EQ(std::remove((dir + "/model.safetensors").c_str()), 0);
  std::ofstream(dir + "/pytorch_model.bin") << "PK\x03\x04 not loaded";
  auto m = Load(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("pickle"), std::string::npos)
      << m.status();
  EXPECT_NE(m.status().message().find("pytorch_model.bin"), std::string::npos)
      << m.status();
}

TEST(GrokGguf, SameLogitsAsTheFolderInLlamaCppForm) {
  TestModelSpec spec;
  spec.arch = "grok-1";
  const std::string dir = TmpDir("grok_gguf");
  ASSERT_TRUE(WriteTestModelHf(spec, dir, /*also_gguf=*/true).ok());
  auto hf = Load(dir);
  ASSERT_TRUE(hf.ok()) << hf.status();
  auto gg = Load(dir + "/model.gguf");
  ASSERT_TRUE(gg.ok()) << gg.status();
  EXPECT_EQ(gg->config.family, ModelFamily::kGrok);
  EXPECT_TRUE(gg->config.grok.norm_topk_prob);
  EXPECT_EQ(gg->config.grok.expert_activation, 2);
  EXPECT_FLOAT_EQ(gg->config.grok.max_attn_value, 30.0f);
  EXPECT_TRUE(gg->config.grok.tie_word_embeddings);
  GrokConfig c = hf->config.grok;
  c.norm_topk_prob = true;
  c.expert_activation = 2;
  auto hf_cpp = BuildGrokEager(c, hf->weights);
  ASSERT_TRUE(hf_cpp.ok()) << hf_cpp.status();
  const std::vector<int64_t> ids = TestPromptIds();
  std::vector<float> a = Logits(*hf_cpp, ids), b = Logits(gg->eager, ids);
  std::vector<float> h = Logits(hf->eager, ids);
  ASSERT_EQ(a.size(), b.size());
  double diff = 0, scale = 0, hf_diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
    hf_diff = std::max(hf_diff, std::fabs(double(h[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(a[i])));
  }
  EXPECT_LE(diff, 1e-6 * scale);
  // The departures are visible: the HF form differs.
  EXPECT_GT(hf_diff, 1e-4 * scale);
  std::printf(
      "grok GGUF vs folder: llama.cpp form %.3g, HF form %.3g (of "
      "max|logit| %.3g)\n",
      diff, hf_diff, scale);
}

TEST(GrokGguf, AbsentKeysTakeLlamaCppDefaults) {
  TestModelSpec spec;
  spec.arch = "grok-1";
  const std::string path = TmpDir("grok_defaults.gguf");
  ASSERT_TRUE(WriteTestModelGguf(spec, path).ok());
  // Renamed keys are unknown to the reader, as absent ones.
  PatchFile(path, "grok.embedding_scale", "grok.embedding_scalX");
  PatchFile(path, "grok.attention.output_scale", "grok.attention.output_scalX");
  PatchFile(path, "grok.attn_logit_softcapping", "grok.attn_logit_softcappinX");
  PatchFile(path, "grok.logit_scale", "grok.logit_scalX");
  auto m = Load(path);
  ASSERT_TRUE(m.ok()) << m.status();
  const GrokConfig& c = m->config.grok;
  EXPECT_FLOAT_EQ(c.embedding_multiplier_scale, 78.38367176906169f);
  EXPECT_FLOAT_EQ(c.attn_output_multiplier, 0.08838834764831845f);
  EXPECT_FLOAT_EQ(c.max_attn_value, 30.0f);
  EXPECT_FLOAT_EQ(c.output_multiplier_scale, 0.5773502691896257f);
  EXPECT_FLOAT_EQ(c.final_logit_softcapping, 0.0f);
}

TEST(GrokGguf, Grok2DenseFfnIsRefused) {
  TestModelSpec spec;
  spec.arch = "grok-1";
  const std::string path = TmpDir("grok_dense.gguf");
  ASSERT_TRUE(WriteTestModelGguf(spec, path).ok());
  PatchFile(path, "blk.0.attn_q.weight", "blk.0.ffn_up.weight");
  auto m = Load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("blk.0.ffn_up.weight"), std::string::npos)
      << m.status();
  EXPECT_NE(m.status().message().find("Grok-2"), std::string::npos)
      << m.status();
}

}  // namespace
}  // namespace qeff::models
