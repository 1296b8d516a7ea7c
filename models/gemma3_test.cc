// Gemma 3 loading: config.json parsing (Gemma3TextConfig defaults, both
// layer-pattern forms, transformers 5's rope_parameters), the GGUF form
// (norms shifted by one, llama.cpp's fixed values) giving the same logits
// as the HF folder, and a Gemma3ForConditionalGeneration folder (config
// under text_config, weights under language_model, a vision tower that is
// skipped) giving the same logits as the text-only folder.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "models/arch/registry.h"
#include "models/family_test_util.h"
#include "models/model_loader.h"
#include "models/safetensors.h"
#include "models/test_model.h"

namespace qeff::models {
namespace {

using testing::Logits;
using testing::Parse;
using testing::TmpDir;

TEST(Gemma3Config, DefaultsAreGemma3TextConfigs) {
  // A real Gemma 3 4B text_config names only what differs from the defaults.
  auto m = Parse(R"({"architectures": ["Gemma3ForConditionalGeneration"],
    "model_type": "gemma3", "text_config": {"hidden_size": 2560,
    "intermediate_size": 10240, "model_type": "gemma3_text",
    "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0,
    "rope_type": "linear"}, "sliding_window": 1024}})");
  ASSERT_TRUE(m.ok()) << m.status();
  const Gemma3Config& c = m->gemma3;
  EXPECT_EQ(m->family, ModelFamily::kGemma3);
  EXPECT_EQ(c.vocab_size, 262208);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_FLOAT_EQ(c.attention_scale, 1.0f / 16.0f);  // 256^-0.5
  EXPECT_FLOAT_EQ(c.embed_scale, std::sqrt(2560.0f));
  EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
  EXPECT_FLOAT_EQ(c.rope_local_base_freq, 1e4f);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLinear);
  EXPECT_EQ(c.sliding_window, 1024);
  ASSERT_EQ(c.sliding_layers.size(), 34u);
  for (int i = 0; i < 34; ++i)
    EXPECT_EQ(c.sliding_layers[i], (i + 1) % 6 != 0) << i;
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(Gemma3Config, LayerTypesAndRopeParameters) {
  auto m = Parse(R"({"model_type": "gemma3_text", "num_hidden_layers": 3,
    "layer_types": ["full_attention", "sliding_attention", "full_attention"],
    "rope_parameters": {"full_attention": {"rope_type": "linear",
      "factor": 4.0, "rope_theta": 500000.0}, "sliding_attention":
      {"rope_type": "default", "rope_theta": 20000.0}}})");
  ASSERT_TRUE(m.ok()) << m.status();
  const Gemma3Config& c = m->gemma3;
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{false, true, false}));
  EXPECT_FLOAT_EQ(c.rope_theta, 5e5f);
  EXPECT_FLOAT_EQ(c.rope_scaling.factor, 4.0f);
  EXPECT_FLOAT_EQ(c.rope_local_base_freq, 2e4f);
}

TEST(Gemma3Config, UnsupportedFieldsAreNamed) {
  auto a = Parse(R"({"model_type": "gemma3_text",
                     "attn_logit_softcapping": 50.0})");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("attn_logit_softcapping"),
            std::string::npos);
  auto b = Parse(R"({"model_type": "gemma3_text", "num_hidden_layers": 2,
                     "layer_types": ["sliding_attention"]})");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("layer_types"), std::string::npos);
  auto c = Parse(R"({"model_type": "gemma3"})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("text_config"), std::string::npos);
}

TEST(Gemma3Load, GgufGivesTheHfFolderLogits) {
  TestModelSpec spec;
  spec.arch = "gemma3_text";
  spec.seed = DefaultTestSeed(spec.arch);
  const std::string dir = TmpDir("gemma3_gguf");
  ASSERT_TRUE(WriteTestModelHf(spec, dir, /*also_gguf=*/true).ok());
  auto hf = Load(dir);
  ASSERT_TRUE(hf.ok()) << hf.status();
  auto gg = Load(dir + "/model.gguf");
  ASSERT_TRUE(gg.ok()) << gg.status();
  EXPECT_EQ(gg->config.architecture, "Gemma3ForCausalLM");
  EXPECT_EQ(gg->config.gemma3.sliding_layers, hf->config.gemma3.sliding_layers);
  EXPECT_EQ(gg->config.gemma3.sliding_window, 4);
  EXPECT_FLOAT_EQ(gg->config.gemma3.norm_weight_offset, 0.0f);
  EXPECT_FLOAT_EQ(hf->config.gemma3.norm_weight_offset, 1.0f);
  ASSERT_NE(gg->tokenizer, nullptr);
  const std::vector<int64_t> ids = TestPromptIds();
  std::vector<float> a = Logits(hf->eager, ids), b = Logits(gg->eager, ids);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0, top = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
    top = std::max(top, std::fabs(double(a[i])));
  }
  // w + 1 added in the graph (HF) or in the file (GGUF): the same f32 sum.
  EXPECT_LE(worst, 1e-6 * top) << worst;
}

TEST(Gemma3Load, ConditionalGenerationFolderLoadsItsTextPart) {
  TestModelSpec spec;
  spec.arch = "gemma3_text";
  spec.seed = DefaultTestSeed(spec.arch);
  const std::string text = TmpDir("gemma3_text"), multi = TmpDir("gemma3_mm");
  ASSERT_TRUE(WriteTestModelHf(spec, text).ok());
  ASSERT_TRUE(WriteTestModelHf(spec, multi).ok());
  // Rewrite the second folder as transformers >= 4.52 saves
  // Gemma3ForConditionalGeneration: model.language_model.*, plus vision
  // tensors, config under text_config.
  auto st = ReadSafetensorsFolder(text);
  ASSERT_TRUE(st.ok()) << st.status();
  std::vector<std::pair<std::string, ir::Tensor>> renamed;
  for (auto& [name, t] : *st)
    renamed.emplace_back("model.language_model." + name.substr(6), t);
  renamed.emplace_back("model.vision_tower.vision_model.embeddings.w",
                       ir::Tensor::F32({2}, {1.0f, 2.0f}));
  renamed.emplace_back("model.multi_modal_projector.mm_input_projection_weight",
                       ir::Tensor::F32({2}, {3.0f, 4.0f}));
  auto bytes = SerializeSafetensors(renamed, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok());
  std::ofstream(multi + "/model.safetensors", std::ios::binary) << *bytes;
  std::ifstream cfg_in(text + "/config.json");
  std::string text_cfg((std::istreambuf_iterator<char>(cfg_in)), {});
  std::ofstream(multi + "/config.json")
      << R"({"architectures": ["Gemma3ForConditionalGeneration"],
             "model_type": "gemma3", "tie_word_embeddings": true,
             "text_config": )"
      << text_cfg << "}";
  auto a = Load(text);
  auto b = Load(multi);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->architecture, "Gemma3ForConditionalGeneration");
  EXPECT_EQ(Logits(a->eager, TestPromptIds()),
            Logits(b->eager, TestPromptIds()));
}

}  // namespace
}  // namespace qeff::models
