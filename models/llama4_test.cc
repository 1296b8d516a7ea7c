// Llama 4 loading: config.json parsing (Llama4TextConfig defaults, the
// no_rope_layers / layer_types / moe_layers forms), the GGUF form
// (llama.cpp's fixed chunk and temperature values, rope_freqs factors,
// experts as stacks) giving the HF folder's logits once those values are
// set alike, a Llama4ForConditionalGeneration folder (config under
// text_config, weights under language_model, a vision model that is
// skipped) giving the text-only folder's logits, the chunked mask and the
// temperature changing the logits when the prompt crosses them, and bad
// inputs refused by name.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "ir/dtype.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "models/arch/registry.h"
#include "models/family_test_util.h"
#include "models/gguf.h"
#include "models/gguf_writer.h"
#include "models/model_loader.h"
#include "models/safetensors.h"
#include "models/test_model.h"

namespace qeff::models {
namespace {

using testing::Logits;
using testing::Parse;
using testing::TmpDir;

double RelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0, top = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
    top = std::max(top, std::fabs(double(a[i])));
  }
  return top > 0 ? worst / top : worst;
}

std::vector<int64_t> LongPrompt() {
  std::vector<int64_t> ids = TestPromptIds();
  for (int64_t t : TestPromptIds()) ids.push_back(t + 3);
  return ids;  // 20 tokens: crosses chunks of 8 and temperature floors of 4
}

TEST(Llama4Config, ScoutTextConfig) {
  // A Llama-4-Scout-style config.json (its sizes; attn_temperature_tuning
  // given as a number, as some published configs do).
  auto m = Parse(R"({"architectures": ["Llama4ForConditionalGeneration"],
    "model_type": "llama4", "tie_word_embeddings": false,
    "text_config": {"attention_chunk_size": 8192, "attn_scale": 0.1,
    "attn_temperature_tuning": 4, "floor_scale": 8192, "head_dim": 128,
    "hidden_size": 5120, "interleave_moe_layer_step": 1,
    "intermediate_size": 8192, "intermediate_size_mlp": 16384,
    "model_type": "llama4_text", "num_attention_heads": 40,
    "num_experts_per_tok": 1, "num_hidden_layers": 48,
    "num_key_value_heads": 8, "num_local_experts": 16,
    "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 8.0,
    "high_freq_factor": 4.0, "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "use_qk_norm": true, "vocab_size": 202048},
    "vision_config": {"hidden_size": 1408}})");
  ASSERT_TRUE(m.ok()) << m.status();
  const Llama4Config& c = m->llama4;
  EXPECT_EQ(m->family, ModelFamily::kLlama4);
  EXPECT_EQ(m->architecture, "Llama4ForConditionalGeneration");
  EXPECT_EQ(c.num_hidden_layers, 48);
  EXPECT_EQ(c.attention_chunk_size, 8192);
  EXPECT_TRUE(c.attn_temperature_tuning);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  for (int i = 0; i < 48; ++i) {
    EXPECT_EQ(c.LayerUsesRope(i), (i + 1) % 4 != 0) << i;
    EXPECT_EQ(c.LayerIsChunked(i), (i + 1) % 4 != 0) << i;
    EXPECT_TRUE(c.LayerIsMoE(i)) << i;
  }
  EXPECT_EQ(m->head_dim, 128);
}

TEST(Llama4Config, ExplicitLayerListsAndDefaults) {
  auto m = Parse(R"({"model_type": "llama4_text",
    "architectures": ["Llama4ForCausalLM"], "num_hidden_layers": 4,
    "hidden_size": 64, "num_attention_heads": 4, "head_dim": 16,
    "vocab_size": 300, "no_rope_layers": [1, 0, 1, 1],
    "layer_types": ["full_attention", "full_attention",
                    "chunked_attention", "chunked_attention"],
    "moe_layers": [0, 3], "interleave_moe_layer_step": 2})");
  ASSERT_TRUE(m.ok()) << m.status();
  const Llama4Config& c = m->llama4;
  EXPECT_EQ(c.rope_layers, (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(c.chunked_layers, (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(c.moe_layers, (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.intermediate_size_mlp, 16384);
  EXPECT_EQ(c.attention_chunk_size, 8192);  // absent: HF's default
  EXPECT_FALSE(c.tie_word_embeddings);
  // null: no chunk, fine while no layer is chunked (HF refuses otherwise).
  auto n = Parse(R"({"model_type": "llama4_text", "num_hidden_layers": 2,
    "hidden_size": 64, "num_attention_heads": 4, "head_dim": 16,
    "attention_chunk_size": null, "layer_types": ["full_attention",
    "full_attention"]})");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->llama4.attention_chunk_size, 0);
}

TEST(Llama4Config, UnsupportedFieldsAreNamed) {
  const std::string base =
      R"("model_type": "llama4_text", "num_hidden_layers": 2,
         "hidden_size": 64, "num_attention_heads": 4, "head_dim": 16)";
  for (const auto& [extra, field] :
       std::vector<std::pair<std::string, std::string>>{
           {R"("hidden_act": "gelu")", "hidden_act"},
           {R"("attention_bias": true)", "attention_bias"},
           {R"("no_rope_layers": [1, 2])", "no_rope_layers"},
           {R"("no_rope_layers": [1])", "no_rope_layers"},
           {R"("layer_types": ["sliding_attention", "full_attention"])",
            "layer_types"},
           {R"("moe_layers": [5])", "moe_layers"},
           {R"("floor_scale": 0.5)", "floor_scale"},
           {R"("num_experts_per_tok": 17)", "num_experts_per_tok"},
           {R"("attention_chunk_size": null)", "attention_chunk_size"}}) {
    auto c = Parse("{" + base + ", " + extra + "}");
    ASSERT_FALSE(c.ok()) << extra;
    EXPECT_NE(c.status().message().find(field), std::string::npos)
        << c.status();
  }
  auto c = Parse(R"({"model_type": "llama4"})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("text_config"), std::string::npos);
}

TEST(Llama4Load, ChunkAndTemperatureChangeTheLogits) {
  TestModelSpec spec;
  spec.arch = "llama4_text";
  spec.seed = DefaultTestSeed(spec.arch);
  auto tm = MakeTestModel(spec);
  ASSERT_TRUE(tm.ok()) << tm.status();
  const WeightMap w = tm->Weights();
  auto full = BuildEager(tm->config, w);
  ASSERT_TRUE(full.ok()) << full.status();
  ModelConfig no_chunk = tm->config, no_temp = tm->config;
  no_chunk.llama4.attention_chunk_size = 0;
  no_temp.llama4.attn_temperature_tuning = false;
  auto g1 = BuildEager(no_chunk, w);
  auto g2 = BuildEager(no_temp, w);
  ASSERT_TRUE(g1.ok() && g2.ok());
  const std::vector<int64_t> ids = LongPrompt();
  const std::vector<float> a = Logits(*full, ids);
  // Not decided by the last few positions only: the whole sequence.
  EXPECT_GT(RelDiff(a, Logits(*g1, ids)), 1e-3);
  EXPECT_GT(RelDiff(a, Logits(*g2, ids)), 1e-3);
  // Within the first chunk and floor (positions 0..2) neither matters.
  const std::vector<int64_t> short_ids(ids.begin(), ids.begin() + 3);
  EXPECT_EQ(Logits(*full, short_ids), Logits(*g1, short_ids));
  EXPECT_EQ(Logits(*full, short_ids), Logits(*g2, short_ids));
}

TEST(Llama4Load, GgufGivesTheHfFolderLogits) {
  TestModelSpec spec;
  spec.arch = "llama4_text";
  spec.seed = DefaultTestSeed(spec.arch);
  const std::string dir = TmpDir("llama4_gguf");
  ASSERT_TRUE(WriteTestModelHf(spec, dir, /*also_gguf=*/true).ok());
  auto hf = Load(dir);
  ASSERT_TRUE(hf.ok()) << hf.status();
  auto gg = Load(dir + "/model.gguf");
  ASSERT_TRUE(gg.ok()) << gg.status();
  const Llama4Config& c = gg->config.llama4;
  EXPECT_EQ(gg->config.architecture, "Llama4ForCausalLM");
  // llama.cpp's fixed values, not the HF folder's.
  EXPECT_EQ(c.attention_chunk_size, 8192);
  EXPECT_EQ(c.floor_scale, 8192);
  EXPECT_EQ(c.rope_layers, hf->config.llama4.rope_layers);
  EXPECT_EQ(c.chunked_layers, hf->config.llama4.chunked_layers);
  EXPECT_EQ(c.moe_layers, hf->config.llama4.moe_layers);
  EXPECT_EQ(c.rope_freq_factors.size(), 8u);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);
  ASSERT_NE(gg->tokenizer, nullptr);
  // With the folder's chunk and floor the GGUF weights give its logits
  // (llama3 scaling via the rope_freqs factors, experts as stacks).
  ModelConfig same = gg->config;
  same.llama4.attention_chunk_size = 8;
  same.llama4.floor_scale = 4;
  auto g = BuildEager(same, gg->weights);
  ASSERT_TRUE(g.ok()) << g.status();
  const std::vector<int64_t> ids = LongPrompt();
  const double d = RelDiff(Logits(hf->eager, ids), Logits(*g, ids));
  std::printf("llama4 GGUF vs HF folder: max |dlogit| / max |logit| %.3g\n", d);
  EXPECT_LE(d, 1e-5);
  // As loaded (chunk 8192) they differ once the prompt crosses 8.
  EXPECT_GT(RelDiff(Logits(hf->eager, ids), Logits(gg->eager, ids)), 1e-3);
}

// The GGUF as loaded (llama.cpp's chunk 8192 and floor 8192) has a clear
// top-1 margin over the 16 greedy steps the llama.cpp peer test compares,
// and a Q8_0 GGUF (q/k rows un-permuted block by block, experts kept
// quantized) stays close to the f32 one.
TEST(Llama4Load, GgufMarginsAndQuantizedWeights) {
  TestModelSpec spec;
  spec.arch = "llama4_text";
  spec.seed = DefaultTestSeed(spec.arch);
  const std::string f32 = TmpDir("llama4_f32.gguf"),
                    q8 = TmpDir("llama4_q8.gguf");
  ASSERT_TRUE(WriteTestModelGguf(spec, f32).ok());
  spec.gguf_weights = ir::QuantFormat::kQ8_0;
  ASSERT_TRUE(WriteTestModelGguf(spec, q8).ok());
  auto a = Load(f32);
  auto b = Load(q8);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(
      b->weights.at("model.layers.1.feed_forward.experts.gate_proj.weight")
          .is_quantized());
  EXPECT_TRUE(
      b->weights.at("model.layers.0.self_attn.q_proj.weight").is_quantized());
  std::vector<int64_t> ids = TestPromptIds();
  const int64_t v = a->config.vocab_size;
  double margin = 1e9;
  for (int step = 0; step < 16; ++step) {
    std::vector<float> l = Logits(a->eager, ids);
    const float* last = l.data() + (l.size() - v);
    int64_t best = 0;
    for (int64_t j = 1; j < v; ++j)
      if (last[j] > last[best]) best = j;
    float second = -1e30f;
    for (int64_t j = 0; j < v; ++j)
      if (j != best) second = std::max(second, last[j]);
    margin = std::min(margin, double(last[best]) - second);
    ids.push_back(best);
  }
  std::printf("llama4 GGUF: min top-1 margin over 16 steps %.4g\n", margin);
  EXPECT_GE(margin, 1e-3);
  const double d = RelDiff(Logits(a->eager, ids), Logits(b->eager, ids));
  std::printf("llama4 GGUF Q8_0 vs f32: max |dlogit| / max |logit| %.3g\n", d);
  EXPECT_GT(d, 0.0);
  EXPECT_LE(d, 5e-2);
}

// The seeded llama4 GGUF rewritten with `set` keys (replacing or adding)
// and without the `drop` keys.
std::string RewrittenGguf(
    const std::string& name,
    const std::vector<std::pair<std::string, GgufValue>>& set,
    const std::vector<std::string>& drop = {}) {
  TestModelSpec spec;
  spec.arch = "llama4_text";
  const std::string src = TmpDir("llama4_src.gguf"), dst = TmpDir(name);
  EXPECT_TRUE(WriteTestModelGguf(spec, src).ok());
  auto f = ReadGguf(src);
  EXPECT_TRUE(f.ok()) << f.status();
  GgufWriter w;
  for (const auto& [k, v] : f->metadata())
    if (std::find(drop.begin(), drop.end(), k) == drop.end()) w.Add(k, v);
  for (const auto& [k, v] : set) w.Add(k, v);
  for (const GgufTensorInfo& t : f->tensors())
    EXPECT_TRUE(w.AddTensor(t.name, t.tensor).ok());
  EXPECT_TRUE(w.WriteFile(dst).ok());
  return dst;
}

// llama.cpp's keys and fixed values: a scalar sliding_window_pattern sets
// the chunked layers (set_swa_pattern), an array one is ignored; files
// llama.cpp cannot run, or values qeff does not model, are refused by name.
TEST(Llama4Load, GgufKeysAsLlamaCppReadsThem) {
  auto p2 = Load(RewrittenGguf(
      "llama4_p2.gguf",
      {{"llama4.attention.sliding_window_pattern", GgufValue::U32(2)}}));
  ASSERT_TRUE(p2.ok()) << p2.status();
  EXPECT_EQ(p2->config.llama4.chunked_layers,
            (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(p2->config.llama4.rope_layers,
            (std::vector<bool>{true, true, true, false}));
  auto arr = Load(RewrittenGguf(
      "llama4_arr.gguf",
      {{"llama4.attention.sliding_window_pattern",
        GgufValue::Array(GgufType::kU32,
                         {GgufValue::U32(2), GgufValue::U32(2),
                          GgufValue::U32(2), GgufValue::U32(2)})}}));
  ASSERT_TRUE(arr.ok()) << arr.status();
  EXPECT_EQ(arr->config.llama4.chunked_layers,
            (std::vector<bool>{true, true, true, false}));
  for (const auto& [file, set, drop, field] :
       std::vector<std::tuple<std::string,
                              std::vector<std::pair<std::string, GgufValue>>,
                              std::vector<std::string>, std::string>>{
           {"llama4_w0.gguf",
            {{"llama4.attention.sliding_window", GgufValue::U32(0)}},
            {},
            "llama4.attention.sliding_window"},
           {"llama4_swa.gguf",
            {{"llama4.rope.freq_base_swa", GgufValue::F32(10000.0f)}},
            {},
            "llama4.rope.freq_base_swa"},
           {"llama4_e0.gguf",
            {{"llama4.expert_count", GgufValue::U32(0)}},
            {},
            "llama4.expert_count"},
           {"llama4_nostep.gguf",
            {},
            {"llama4.interleave_moe_layer_step"},
            "llama4.interleave_moe_layer_step"},
           {"llama4_noexp.gguf",
            {},
            {"llama4.expert_feed_forward_length"},
            "llama4.expert_feed_forward_length"}}) {
    auto m = Load(RewrittenGguf(file, set, drop));
    ASSERT_FALSE(m.ok()) << file;
    EXPECT_NE(m.status().message().find(field), std::string::npos)
        << m.status();
  }
}

TEST(Llama4Load, ConditionalGenerationFolderLoadsItsTextPart) {
  TestModelSpec spec;
  spec.arch = "llama4_text";
  spec.seed = DefaultTestSeed(spec.arch);
  const std::string text = TmpDir("llama4_text"), multi = TmpDir("llama4_mm");
  ASSERT_TRUE(WriteTestModelHf(spec, text).ok());
  ASSERT_TRUE(WriteTestModelHf(spec, multi).ok());
  // Rewrite the second folder as Llama4ForConditionalGeneration is saved:
  // language_model.model.* / language_model.lm_head.*, plus vision tensors,
  // config under text_config.
  auto st = ReadSafetensorsFolder(text);
  ASSERT_TRUE(st.ok()) << st.status();
  std::vector<std::pair<std::string, ir::Tensor>> renamed;
  for (auto& [name, t] : *st) renamed.emplace_back("language_model." + name, t);
  renamed.emplace_back("vision_model.patch_embedding.linear.weight",
                       ir::Tensor::F32({2}, {1.0f, 2.0f}));
  renamed.emplace_back("multi_modal_projector.linear_1.weight",
                       ir::Tensor::F32({2}, {3.0f, 4.0f}));
  auto bytes = SerializeSafetensors(renamed, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok());
  std::ofstream(multi + "/model.safetensors", std::ios::binary) << *bytes;
  std::ifstream cfg_in(text + "/config.json");
  std::string text_cfg((std::istreambuf_iterator<char>(cfg_in)), {});
  std::ofstream(multi + "/config.json")
      << R"({"architectures": ["Llama4ForConditionalGeneration"],
             "model_type": "llama4", "tie_word_embeddings": false,
             "vision_config": {"hidden_size": 8}, "text_config": )"
      << text_cfg << "}";
  auto a = Load(text);
  auto b = Load(multi);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->architecture, "Llama4ForConditionalGeneration");
  EXPECT_EQ(Logits(a->eager, LongPrompt()), Logits(b->eager, LongPrompt()));
}

// bf16 fused experts (as real checkpoints store them) are split in bf16
// and cast once: the logits equal those of f32 weights holding the same
// bf16 values.
TEST(Llama4Load, Bf16FusedExpertsGiveTheirF32Values) {
  TestModelSpec spec;
  spec.arch = "llama4_text";
  auto tm = MakeTestModel(spec);
  ASSERT_TRUE(tm.ok());
  WeightMap as_f32 = tm->Weights(), as_bf16 = tm->Weights();
  for (auto& [name, t] : as_f32) {
    if (!absl::StrContains(name, "experts.")) continue;
    ir::Tensor r = ir::Tensor::Zeros(ir::DType::kF32, t.dims());
    ir::Tensor b = ir::Tensor::Zeros(ir::DType::kBF16, t.dims());
    const float* src = t.data<float>();
    uint16_t* bp = reinterpret_cast<uint16_t*>(b.mutable_raw());
    for (int64_t i = 0; i < t.num_elements(); ++i) {
      bp[i] = ir::FloatToBFloat16(src[i]);
      r.mutable_data<float>()[i] = ir::BFloat16ToFloat(bp[i]);
    }
    t = r;
    as_bf16[name] = b;
  }
  auto a = BuildEager(tm->config, as_f32);
  auto b = BuildEager(tm->config, as_bf16);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Logits(*a, LongPrompt()), Logits(*b, LongPrompt()));
}

TEST(Llama4Load, BadExpertTensorsAreNamed) {
  TestModelSpec spec;
  spec.arch = "llama4_text";
  auto tm = MakeTestModel(spec);
  ASSERT_TRUE(tm.ok());
  WeightMap w = tm->Weights();
  const std::string n = "model.layers.1.feed_forward.experts.gate_up_proj";
  ASSERT_TRUE(w.contains(n));
  w[n] = ir::Tensor::F32({2, 2}, {1, 2, 3, 4});
  auto g = BuildEager(tm->config, w);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find(n), std::string::npos) << g.status();
  w = tm->Weights();
  w.erase("model.layers.3.feed_forward.experts.down_proj");
  g = BuildEager(tm->config, w);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("experts.down_proj"), std::string::npos)
      << g.status();
}

}  // namespace
}  // namespace qeff::models
