#include "models/test_model.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ir/status_macros.h"
#include "models/gguf_writer.h"
#include "models/rope_layout.h"

namespace qeff::models {
namespace {

// Deterministic normal samples (Box-Muller over mt19937_64's raw output;
// std::normal_distribution is implementation-defined).
class NormalSource {
 public:
  explicit NormalSource(uint64_t seed) : rng_(seed) {}
  float Next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = (static_cast<double>(rng_() >> 11) + 1.0) / 9007199254740993.0;
    double u2 = static_cast<double>(rng_() >> 11) / 9007199254740992.0;
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = static_cast<float>(r * std::sin(2 * M_PI * u2));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2 * M_PI * u2));
  }

 private:
  std::mt19937_64 rng_;
  bool has_spare_ = false;
  float spare_ = 0;
};

ir::Tensor Random(NormalSource& src, std::vector<int64_t> dims, float std,
                  float mean = 0) {
  ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, std::move(dims));
  float* p = t.mutable_data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = mean + std * src.Next();
  return t;
}

const char* const kWords[] = {
    "the",    "a",     "and",   "once",   "upon", "time",   "there", "was",
    "little", "girl",  "boy",   "named",  "she",  "he",     "it",    "to",
    "play",   "with",  "in",    "park",   "day",  "one",    "big",   "red",
    "ball",   "happy", "sun",   "dog",    "cat",  "friend", "said",  "mom",
    "went",   "saw",   "loved", "wanted", "but",  "too",    "high",  "of",
    "is",     "on",    "they",  "had",    "very", "tree",   "house", "run",
    "fun",    "good"};

}  // namespace

TestVocab MakeTestVocab() {
  TestVocab v;
  auto add = [&](std::string piece, float score, int32_t type) {
    v.pieces.push_back(std::move(piece));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  for (int b = 0; b < 256; ++b) add(absl::StrFormat("<0x%02X>", b), 0, 6);
  const std::string kSpace = "\xe2\x96\x81";  // U+2581
  std::vector<std::string> seen;
  auto add_piece = [&](const std::string& p) {
    for (const auto& s : seen)
      if (s == p) return;
    seen.push_back(p);
    // Longer pieces score higher so they win merges.
    add(p, -1000.0f + static_cast<float>(p.size()) * 10 - seen.size() * 0.001f,
        1);
  };
  add_piece(kSpace);
  for (char c = 'a'; c <= 'z'; ++c) add_piece(std::string(1, c));
  for (char c = 'A'; c <= 'Z'; ++c) add_piece(std::string(1, c));
  for (const char* p : {".", ",", "!", "?", "'", "\""}) add_piece(p);
  for (const char* w : kWords) {
    std::string word = w;
    for (size_t k = 1; k <= word.size(); ++k)
      add_piece(kSpace + word.substr(0, k));
  }
  return v;
}

WeightMap MakeTestWeights(const TestModelSpec& s, LlamaConfig* config) {
  TestVocab vocab = MakeTestVocab();
  LlamaConfig c;
  c.hidden_size = s.hidden_size;
  c.intermediate_size = s.intermediate_size;
  c.num_hidden_layers = s.num_hidden_layers;
  c.num_attention_heads = s.num_attention_heads;
  c.num_key_value_heads = s.num_key_value_heads;
  c.vocab_size = static_cast<int64_t>(vocab.pieces.size());
  c.tie_word_embeddings = s.tie_word_embeddings;
  c.max_position_embeddings = s.max_position_embeddings;
  *config = c;
  NormalSource src(s.seed);
  const int64_t h = c.hidden_size, d = c.HeadDim(), f = c.intermediate_size;
  const float in_std = 1.0f / std::sqrt(static_cast<float>(h));
  WeightMap w;
  w["model.embed_tokens.weight"] = Random(src, {c.vocab_size, h}, 1.0f);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = absl::StrCat("model.layers.", i, ".");
    w[p + "input_layernorm.weight"] = Random(src, {h}, 0.1f, 1.0f);
    w[p + "self_attn.q_proj.weight"] =
        Random(src, {c.num_attention_heads * d, h}, in_std);
    w[p + "self_attn.k_proj.weight"] =
        Random(src, {c.num_key_value_heads * d, h}, in_std);
    w[p + "self_attn.v_proj.weight"] =
        Random(src, {c.num_key_value_heads * d, h}, in_std);
    w[p + "self_attn.o_proj.weight"] =
        Random(src, {h, c.num_attention_heads * d}, in_std);
    w[p + "post_attention_layernorm.weight"] = Random(src, {h}, 0.1f, 1.0f);
    w[p + "mlp.gate_proj.weight"] = Random(src, {f, h}, in_std);
    w[p + "mlp.up_proj.weight"] = Random(src, {f, h}, in_std);
    w[p + "mlp.down_proj.weight"] =
        Random(src, {h, f}, 1.0f / std::sqrt(static_cast<float>(f)));
  }
  w["model.norm.weight"] = Random(src, {h}, 0.1f, 1.0f);
  if (!c.tie_word_embeddings)
    w["lm_head.weight"] = Random(src, {c.vocab_size, h}, in_std);
  return w;
}

absl::Status WriteTestModelGguf(const TestModelSpec& s,
                                const std::string& path) {
  LlamaConfig c;
  WeightMap w = MakeTestWeights(s, &c);
  TestVocab vocab = MakeTestVocab();
  GgufWriter g;
  g.Add("general.architecture", GgufValue::String("llama"));
  g.Add("general.name",
        GgufValue::String(absl::StrCat("qeff-test-llama-seed", s.seed)));
  g.Add("llama.context_length", GgufValue::U32(c.max_position_embeddings));
  g.Add("llama.embedding_length", GgufValue::U32(c.hidden_size));
  g.Add("llama.feed_forward_length", GgufValue::U32(c.intermediate_size));
  g.Add("llama.block_count", GgufValue::U32(c.num_hidden_layers));
  g.Add("llama.attention.head_count", GgufValue::U32(c.num_attention_heads));
  g.Add("llama.attention.head_count_kv", GgufValue::U32(c.num_key_value_heads));
  g.Add("llama.attention.layer_norm_rms_epsilon",
        GgufValue::F32(c.rms_norm_eps));
  g.Add("llama.rope.freq_base", GgufValue::F32(c.rope_theta));
  g.Add("llama.rope.dimension_count", GgufValue::U32(c.HeadDim()));
  g.Add("tokenizer.ggml.model", GgufValue::String("llama"));
  g.Add("tokenizer.ggml.tokens", GgufValue::StringArray(vocab.pieces));
  g.Add("tokenizer.ggml.scores", GgufValue::F32Array(vocab.scores));
  g.Add("tokenizer.ggml.token_type", GgufValue::I32Array(vocab.types));
  g.Add("tokenizer.ggml.unknown_token_id", GgufValue::U32(0));
  g.Add("tokenizer.ggml.bos_token_id", GgufValue::U32(1));
  g.Add("tokenizer.ggml.eos_token_id", GgufValue::U32(2));
  g.Add("tokenizer.ggml.add_bos_token", GgufValue::Bool(true));
  auto put = [&](const std::string& gguf_name, const std::string& hf_name,
                 int permute_heads) -> absl::Status {
    ir::Tensor t = w.at(hf_name);
    if (permute_heads > 0) {
      QEFF_ASSIGN_OR_RETURN(t, PermuteQK(t, permute_heads));
    }
    return g.AddTensor(gguf_name, t);
  };
  QEFF_RETURN_IF_ERROR(
      put("token_embd.weight", "model.embed_tokens.weight", 0));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string b = absl::StrCat("blk.", i, "."),
                p = absl::StrCat("model.layers.", i, ".");
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_norm.weight", p + "input_layernorm.weight", 0));
    QEFF_RETURN_IF_ERROR(put(b + "attn_q.weight", p + "self_attn.q_proj.weight",
                             c.num_attention_heads));
    QEFF_RETURN_IF_ERROR(put(b + "attn_k.weight", p + "self_attn.k_proj.weight",
                             c.num_key_value_heads));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_v.weight", p + "self_attn.v_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_output.weight", p + "self_attn.o_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "ffn_norm.weight", p + "post_attention_layernorm.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "ffn_gate.weight", p + "mlp.gate_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(put(b + "ffn_up.weight", p + "mlp.up_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "ffn_down.weight", p + "mlp.down_proj.weight", 0));
  }
  QEFF_RETURN_IF_ERROR(put("output_norm.weight", "model.norm.weight", 0));
  if (!c.tie_word_embeddings)
    QEFF_RETURN_IF_ERROR(put("output.weight", "lm_head.weight", 0));
  return g.WriteFile(path);
}

}  // namespace qeff::models
