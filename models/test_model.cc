#include "models/test_model.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "ir/quant.h"
#include "models/gguf_writer.h"
#include "models/rope_layout.h"
#include "models/safetensors.h"
#include "models/unicode.h"

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

HfVocabSource TestHfVocab(ModelFamily family) {
  const TestVocab tv = MakeTestVocab();
  HfVocabSource v;
  v.bos_id = 1;
  v.eos_id = 2;
  if (family != ModelFamily::kGpt2) {
    v.model = "llama";
    v.tokens = tv.pieces;
    v.scores = tv.scores;
    v.types = tv.types;
    v.unk_id = 0;
    v.add_bos = true;
    return v;
  }
  // GPT-2 style: three control tokens (ids as in generation_config.json),
  // the 256 byte tokens, then merges building " word" and "word" prefixes
  // of the test words until the vocabulary has the model's size.
  const size_t n = tv.pieces.size();
  v.model = "gpt2";
  v.pre = "gpt-2";
  v.tokens = {"<|padding|>", "<|startoftext|>", "<|endoftext|>"};
  v.types = {3, 3, 3};
  for (int b = 0; b < 256; ++b) {
    std::string t;
    unicode::AppendUtf8(unicode::ByteToCodepoint(static_cast<uint8_t>(b)), &t);
    v.tokens.push_back(t);
    v.types.push_back(1);
  }
  absl::flat_hash_set<std::string> have(v.tokens.begin(), v.tokens.end());
  const std::string kG = "\xc4\xa0";  // byte-level ' '
  for (const char* w : kWords) {
    for (const std::string& word : {kG + w, std::string(w)}) {
      size_t first = word[0] == kG[0] ? kG.size() : 1;
      std::string cur = word.substr(0, first);
      for (size_t i = first; i < word.size() && v.tokens.size() < n; ++i) {
        std::string next = cur + word[i];
        if (have.insert(next).second) {
          v.merges.push_back(absl::StrCat(cur, " ", std::string(1, word[i])));
          v.tokens.push_back(next);
          v.types.push_back(1);
        }
        cur = next;
      }
    }
  }
  v.scores.assign(v.tokens.size(), 0.0f);
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
  c.rope_scaling = s.rope_scaling;
  c.head_dim = s.head_dim;
  *config = c;
  NormalSource src(s.seed);
  const int64_t h = c.hidden_size, d = c.HeadDim(), f = c.intermediate_size;
  const float in_std = 1.0f / std::sqrt(static_cast<float>(h));
  WeightMap w;
  // A tied head with N(0, 1) embeddings would just echo the input token
  // (the residual stream keeps its embedding); tied models get small ones.
  w["model.embed_tokens.weight"] =
      Random(src, {c.vocab_size, h}, c.tie_word_embeddings ? 0.1f : 1.0f);
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

namespace {

std::vector<std::pair<std::string, ir::Tensor>> Ordered(WeightMap w,
                                                        const LlamaConfig& c) {
  std::vector<std::pair<std::string, ir::Tensor>> out;
  auto take = [&](const std::string& n) {
    auto it = w.find(n);
    if (it != w.end()) out.emplace_back(n, it->second);
  };
  take("model.embed_tokens.weight");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = absl::StrCat("model.layers.", i, ".");
    for (const char* r :
         {"input_layernorm.weight", "self_attn.q_proj.weight",
          "self_attn.q_proj.bias", "self_attn.k_proj.weight",
          "self_attn.k_proj.bias", "self_attn.v_proj.weight",
          "self_attn.qkv_proj.weight", "mlp.gate_up_proj.weight",
          "self_attn.v_proj.bias", "self_attn.q_norm.weight",
          "self_attn.k_norm.weight", "self_attn.o_proj.weight",
          "post_attention_layernorm.weight", "mlp.gate_proj.weight",
          "mlp.up_proj.weight", "mlp.down_proj.weight"})
      take(p + r);
    if (c.LayerIsMoE(i)) {
      const bool mixtral = c.moe_style == "mixtral";
      const std::string m = p + (mixtral ? "block_sparse_moe." : "mlp.");
      take(m + "gate.weight");
      for (int64_t e = 0; e < c.num_experts; ++e) {
        for (const char* r : mixtral
                                 ? std::vector<const char*>{"w1", "w2", "w3"}
                                 : std::vector<const char*>{
                                       "gate_proj", "up_proj", "down_proj"})
          take(absl::StrCat(m, "experts.", e, ".", r, ".weight"));
      }
    }
  }
  take("model.norm.weight");
  take("lm_head.weight");
  return out;
}

// Mixtral / Qwen3-MoE: every layer's dense MLP replaced by a router and
// spec.num_experts SwiGLU experts, drawn from their own seed stream. The
// router is drawn with a larger scale so routing decisions are clear.
void AddExperts(const TestModelSpec& s, LlamaConfig* c, WeightMap* w) {
  const bool mixtral = s.arch == "mixtral";
  c->num_experts = s.num_experts;
  c->num_experts_per_tok = s.num_experts_per_tok;
  c->moe_style = mixtral ? "mixtral" : "qwen";
  c->norm_topk_prob = mixtral ? true : s.norm_topk_prob;
  if (!mixtral) c->moe_intermediate_size = s.moe_intermediate_size;
  const int64_t h = c->hidden_size;
  const int64_t f = mixtral ? c->intermediate_size : c->moe_intermediate_size;
  NormalSource src(s.seed ^ 0x6a09e667f3bcc909ull);
  if (!s.mlp_only_layers.empty()) {
    c->moe_layers.assign(c->num_hidden_layers, true);
    for (int64_t i : s.mlp_only_layers)
      if (i >= 0 && i < c->num_hidden_layers) c->moe_layers[i] = false;
  }
  for (int64_t i = 0; i < c->num_hidden_layers; ++i) {
    if (!c->LayerIsMoE(i)) continue;
    const std::string p = absl::StrCat("model.layers.", i, ".");
    for (const char* r : {"gate_proj", "up_proj", "down_proj"})
      w->erase(absl::StrCat(p, "mlp.", r, ".weight"));
    const std::string m = p + (mixtral ? "block_sparse_moe." : "mlp.");
    (*w)[m + "gate.weight"] =
        Random(src, {c->num_experts, h}, 3.0f / std::sqrt(float(h)));
    for (int64_t e = 0; e < c->num_experts; ++e) {
      const std::string x = absl::StrCat(m, "experts.", e, ".");
      (*w)[x + (mixtral ? "w1" : "gate_proj") + ".weight"] =
          Random(src, {f, h}, 1.0f / std::sqrt(float(h)));
      (*w)[x + (mixtral ? "w3" : "up_proj") + ".weight"] =
          Random(src, {f, h}, 1.0f / std::sqrt(float(h)));
      (*w)[x + (mixtral ? "w2" : "down_proj") + ".weight"] =
          Random(src, {h, f}, 1.0f / std::sqrt(float(f)));
    }
  }
}

// Phi-3: the llama draw with q/k/v and gate/up fused as Phi3 stores them,
// longrope scaling (short and long factors, original context
// spec.longrope_original of 512, attention_factor = sqrt(1 + ln s / ln
// original) for s = 512 / original) and a sliding window
// longer than any test sequence.
void FusePhi3(int64_t original, LlamaConfig* c, WeightMap* w) {
  c->fused_qkv = c->fused_gate_up = true;
  c->sliding_window = 2047;
  c->max_position_embeddings = 512;
  RopeScaling& r = c->rope_scaling;
  r.type = RopeScaling::Type::kLongRope;
  r.original_max_position_embeddings = 256;
  r.attention_factor =
      static_cast<float>(std::sqrt(1.0 + std::log(2.0) / std::log(256.0)));
  const int64_t half = c->HeadDim() / 2;
  r.long_factor.clear();
  r.short_factor.clear();
  for (int64_t i = 0; i < half; ++i) {
    r.short_factor.push_back(1.0f + 0.25f * static_cast<float>(i) / half);
    r.long_factor.push_back(1.0f + 4.0f * static_cast<float>(i) / half);
  }
  auto cat = [&](const std::string& out, std::vector<std::string> in) {
    int64_t rows = 0, cols = 0;
    for (const auto& n : in) {
      rows += (*w)[n].dims()[0];
      cols = (*w)[n].dims()[1];
    }
    ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, {rows, cols});
    size_t off = 0;
    for (const auto& n : in) {
      std::memcpy(t.mutable_raw() + off, (*w)[n].raw(), (*w)[n].byte_size());
      off += (*w)[n].byte_size();
      w->erase(n);
    }
    (*w)[out] = std::move(t);
  };
  for (int64_t i = 0; i < c->num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    cat(p + "self_attn.qkv_proj.weight",
        {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
         p + "self_attn.v_proj.weight"});
    cat(p + "mlp.gate_up_proj.weight",
        {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"});
  }
}

// Qwen2-style: the llama draw, then q/k/v biases drawn after all weights.
TestModel MakeLlamaFamily(const TestModelSpec& s) {
  TestModelSpec base = s;
  base.tie_word_embeddings = s.arch == "qwen2" ? true : s.tie_word_embeddings;
  if ((s.arch == "qwen3" || s.arch == "qwen3_moe") && base.head_dim == 0)
    base.head_dim = 32;
  LlamaConfig c;
  WeightMap w = MakeTestWeights(base, &c);
  if (s.arch == "mistral") c.sliding_window = s.sliding_window;
  if (s.arch == "qwen2") {
    c.qkv_bias = true;
    c.rms_norm_eps = 1e-6f;
    NormalSource src(s.seed ^ 0x9e3779b97f4a7c15ull);
    const int64_t d = c.HeadDim();
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      std::string p = absl::StrCat("model.layers.", i, ".self_attn.");
      w[p + "q_proj.bias"] = Random(src, {c.num_attention_heads * d}, 0.5f);
      w[p + "k_proj.bias"] = Random(src, {c.num_key_value_heads * d}, 0.5f);
      w[p + "v_proj.bias"] = Random(src, {c.num_key_value_heads * d}, 0.5f);
    }
  }
  if (s.arch == "qwen3" || s.arch == "qwen3_moe") {
    // Qwen3: q/k norms drawn after all weights.
    c.qk_norm = true;
    c.rms_norm_eps = 1e-6f;
    NormalSource src(s.seed ^ 0x51ed270b27c9a3f5ull);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      std::string p = absl::StrCat("model.layers.", i, ".self_attn.");
      w[p + "q_norm.weight"] = Random(src, {c.HeadDim()}, 0.1f, 1.0f);
      w[p + "k_norm.weight"] = Random(src, {c.HeadDim()}, 0.1f, 1.0f);
    }
  }
  if (s.arch == "mixtral" || s.arch == "qwen3_moe") AddExperts(s, &c, &w);
  if (s.arch == "phi3") FusePhi3(s.longrope_original, &c, &w);
  TestModel m;
  m.config = FromLlamaConfig(c, s.arch);
  m.tensors = Ordered(std::move(w), c);
  return m;
}

TestModel MakeGpt2(const TestModelSpec& s) {
  Gpt2Config c;
  c.vocab_size = static_cast<int64_t>(MakeTestVocab().pieces.size());
  c.n_positions = s.max_position_embeddings;
  c.n_embd = s.hidden_size;
  c.n_layer = s.num_hidden_layers;
  c.n_head = s.num_attention_heads;
  c.n_inner = s.intermediate_size;
  NormalSource src(s.seed);
  const int64_t h = c.n_embd, f = c.Inner();
  const float in_std = 1.0f / std::sqrt(static_cast<float>(h));
  TestModel m;
  auto add = [&](std::string n, ir::Tensor t) {
    m.tensors.emplace_back(std::move(n), std::move(t));
  };
  // Small embeddings: the head is tied (see MakeTestWeights).
  add("wte.weight", Random(src, {c.vocab_size, h}, 0.1f));
  add("wpe.weight", Random(src, {c.n_positions, h}, 0.1f));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    std::string p = absl::StrCat("h.", i, ".");
    add(p + "ln_1.weight", Random(src, {h}, 0.1f, 1.0f));
    add(p + "ln_1.bias", Random(src, {h}, 0.1f));
    add(p + "attn.c_attn.weight", Random(src, {h, 3 * h}, in_std));
    add(p + "attn.c_attn.bias", Random(src, {3 * h}, 0.1f));
    add(p + "attn.c_proj.weight", Random(src, {h, h}, in_std));
    add(p + "attn.c_proj.bias", Random(src, {h}, 0.1f));
    add(p + "ln_2.weight", Random(src, {h}, 0.1f, 1.0f));
    add(p + "ln_2.bias", Random(src, {h}, 0.1f));
    add(p + "mlp.c_fc.weight", Random(src, {h, f}, in_std));
    add(p + "mlp.c_fc.bias", Random(src, {f}, 0.1f));
    add(p + "mlp.c_proj.weight",
        Random(src, {f, h}, 1.0f / std::sqrt(static_cast<float>(f))));
    add(p + "mlp.c_proj.bias", Random(src, {h}, 0.1f));
  }
  add("ln_f.weight", Random(src, {h}, 0.1f, 1.0f));
  add("ln_f.bias", Random(src, {h}, 0.1f));
  m.config.family = ModelFamily::kGpt2;
  m.config.model_type = "gpt2";
  m.config.architecture = "GPT2LMHeadModel";
  m.config.gpt2 = c;
  FillCommon(&m.config);
  return m;
}

// Gemma 3: two layers per pattern of 2 (a local sliding-window layer, then a
// global one), a window of 4 (shorter than the test prompt), different local
// and global RoPE bases, linear scaling on the global layers, Q/K norms and
// the four per-layer norms; norm weights near 0 (Gemma multiplies by
// 1 + weight). query_pre_attn_scalar is the head dim, the value llama.cpp
// assumes for GGUF files of this size.
TestModel MakeGemma3(const TestModelSpec& s) {
  Gemma3Config c;
  c.vocab_size = static_cast<int64_t>(MakeTestVocab().pieces.size());
  c.hidden_size = s.hidden_size;
  c.intermediate_size = s.intermediate_size;
  c.num_hidden_layers = s.num_hidden_layers;
  c.num_attention_heads = s.num_attention_heads;
  c.num_key_value_heads = s.num_key_value_heads;
  c.head_dim = s.hidden_size / s.num_attention_heads;
  c.max_position_embeddings = s.max_position_embeddings;
  c.rms_norm_eps = 1e-6f;
  c.rope_theta = 1000000.0f;
  c.rope_scaling.type = RopeScaling::Type::kLinear;
  c.rope_scaling.factor = 8.0f;
  c.rope_local_base_freq = 10000.0f;
  c.sliding_window = 4;
  c.sliding_layers = Gemma3SlidingLayersFromPattern(c.num_hidden_layers, 2);
  c.attention_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  c.embed_scale = std::sqrt(static_cast<float>(c.hidden_size));
  c.tie_word_embeddings = true;
  NormalSource src(s.seed);
  const int64_t h = c.hidden_size, d = c.head_dim, f = c.intermediate_size;
  const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads;
  const float in_std = 1.0f / std::sqrt(static_cast<float>(h));
  TestModel m;
  auto add = [&](std::string n, ir::Tensor t) {
    m.tensors.emplace_back(std::move(n), std::move(t));
  };
  // Small embeddings: scaled by sqrt(hidden) and tied to the head, larger
  // ones make every step repeat its input token.
  add("model.embed_tokens.weight", Random(src, {c.vocab_size, h}, 0.02f));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = absl::StrCat("model.layers.", i, ".");
    add(p + "input_layernorm.weight", Random(src, {h}, 0.1f));
    add(p + "self_attn.q_proj.weight", Random(src, {nh * d, h}, in_std));
    add(p + "self_attn.k_proj.weight", Random(src, {nkv * d, h}, in_std));
    add(p + "self_attn.v_proj.weight", Random(src, {nkv * d, h}, in_std));
    add(p + "self_attn.o_proj.weight",
        Random(src, {h, nh * d}, 1.0f / std::sqrt(static_cast<float>(nh * d))));
    add(p + "self_attn.q_norm.weight", Random(src, {d}, 0.1f));
    add(p + "self_attn.k_norm.weight", Random(src, {d}, 0.1f));
    add(p + "post_attention_layernorm.weight", Random(src, {h}, 0.1f));
    add(p + "pre_feedforward_layernorm.weight", Random(src, {h}, 0.1f));
    add(p + "mlp.gate_proj.weight", Random(src, {f, h}, in_std));
    add(p + "mlp.up_proj.weight", Random(src, {f, h}, in_std));
    add(p + "mlp.down_proj.weight",
        Random(src, {h, f}, 1.0f / std::sqrt(static_cast<float>(f))));
    add(p + "post_feedforward_layernorm.weight", Random(src, {h}, 0.1f));
  }
  add("model.norm.weight", Random(src, {h}, 0.1f));
  m.config = FromGemma3Config(c);
  return m;
}

// Llama 4: four layers — RoPE + chunked + dense, RoPE + chunked + MoE,
// RoPE + chunked + dense, NoPE + full + MoE (interleave step 2, NoPE every
// 4th layer as llama.cpp fixes it) — an attention chunk of 8 and a
// temperature floor_scale of 4 so the test prompt crosses both, llama3 RoPE
// scaling (original length 16), L2 Q/K norms, 4 experts top-1 with a shared
// expert; experts fused as HF stores them (gate_up_proj [E, H, 2F],
// down_proj [E, F, H]); Q/K rows as HF stores them (interleaved pairs).
TestModel MakeLlama4(const TestModelSpec& s) {
  Llama4Config c;
  c.vocab_size = static_cast<int64_t>(MakeTestVocab().pieces.size());
  c.hidden_size = s.hidden_size;
  c.intermediate_size = s.moe_intermediate_size;
  c.intermediate_size_mlp = s.intermediate_size;
  c.num_hidden_layers = std::max<int64_t>(4, s.num_hidden_layers);
  c.num_attention_heads = s.num_attention_heads;
  c.num_key_value_heads = s.num_key_value_heads;
  c.head_dim = s.hidden_size / s.num_attention_heads;
  c.max_position_embeddings = s.max_position_embeddings;
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 500000.0f;
  c.rope_scaling.type = RopeScaling::Type::kLlama3;
  c.rope_scaling.factor = 8.0f;
  c.rope_scaling.low_freq_factor = 1.0f;
  c.rope_scaling.high_freq_factor = 4.0f;
  c.rope_scaling.original_max_position_embeddings = 16;
  c.attention_chunk_size = 8;
  c.rope_layers = Llama4RopeLayersFromInterval(c.num_hidden_layers, 4);
  c.chunked_layers = c.rope_layers;
  c.moe_layers = Llama4MoELayersFromStep(c.num_hidden_layers, 2);
  c.use_qk_norm = true;
  c.attn_temperature_tuning = true;
  c.floor_scale = 4;
  c.attn_scale = 0.1f;
  c.num_local_experts = s.num_experts;
  c.num_experts_per_tok = 1;
  c.tie_word_embeddings = false;
  NormalSource src(s.seed);
  const int64_t h = c.hidden_size, d = c.head_dim;
  const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads;
  const int64_t e = c.num_local_experts, fe = c.intermediate_size,
                fm = c.intermediate_size_mlp;
  const float in_std = 1.0f / std::sqrt(static_cast<float>(h));
  TestModel m;
  auto add = [&](std::string n, ir::Tensor t) {
    m.tensors.emplace_back(std::move(n), std::move(t));
  };
  add("model.embed_tokens.weight", Random(src, {c.vocab_size, h}, 1.0f));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = absl::StrCat("model.layers.", i, ".");
    add(p + "input_layernorm.weight", Random(src, {h}, 0.1f, 1.0f));
    add(p + "self_attn.q_proj.weight", Random(src, {nh * d, h}, in_std));
    add(p + "self_attn.k_proj.weight", Random(src, {nkv * d, h}, in_std));
    add(p + "self_attn.v_proj.weight", Random(src, {nkv * d, h}, in_std));
    add(p + "self_attn.o_proj.weight",
        Random(src, {h, nh * d}, 1.0f / std::sqrt(static_cast<float>(nh * d))));
    add(p + "post_attention_layernorm.weight", Random(src, {h}, 0.1f, 1.0f));
    const std::string f = p + "feed_forward.";
    if (c.LayerIsMoE(i)) {
      add(f + "router.weight", Random(src, {e, h}, 4.0f * in_std));
      add(f + "experts.gate_up_proj", Random(src, {e, h, 2 * fe}, in_std));
      add(f + "experts.down_proj",
          Random(src, {e, fe, h}, 1.0f / std::sqrt(static_cast<float>(fe))));
      add(f + "shared_expert.gate_proj.weight", Random(src, {fe, h}, in_std));
      add(f + "shared_expert.up_proj.weight", Random(src, {fe, h}, in_std));
      add(f + "shared_expert.down_proj.weight",
          Random(src, {h, fe}, 1.0f / std::sqrt(static_cast<float>(fe))));
    } else {
      add(f + "gate_proj.weight", Random(src, {fm, h}, in_std));
      add(f + "up_proj.weight", Random(src, {fm, h}, in_std));
      add(f + "down_proj.weight",
          Random(src, {h, fm}, 1.0f / std::sqrt(static_cast<float>(fm))));
    }
  }
  add("model.norm.weight", Random(src, {h}, 0.1f, 1.0f));
  add("lm_head.weight", Random(src, {c.vocab_size, h}, in_std));
  m.config = FromLlama4Config(c);
  return m;
}

// Grok-1 (HPC-AI Tech's Grok1ModelForCausalLM): 8 experts, top-2, the
// four per-layer norms, tied embeddings (Grok1Config's default) and Grok-1's
// soft-cap of 30 and output multiplier; attn_output_multiplier 3 (Grok-1:
// 1/sqrt(128)) so that q·k × multiplier exceeds the cap and the tanh bites
// on these small random heads (tests/reference/reference.py reports the
// largest |score| / cap).
TestModel MakeGrok(const TestModelSpec& s) {
  GrokConfig c;
  c.vocab_size = static_cast<int64_t>(MakeTestVocab().pieces.size());
  c.hidden_size = s.hidden_size;
  c.intermediate_size = s.moe_intermediate_size;
  c.num_hidden_layers = s.num_hidden_layers;
  c.num_attention_heads = s.num_attention_heads;
  c.num_key_value_heads = s.num_key_value_heads;
  c.head_dim = s.hidden_size / s.num_attention_heads;
  c.max_position_embeddings = s.max_position_embeddings;
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  c.num_experts = 8;
  c.num_experts_per_tok = s.num_experts_per_tok;
  c.embedding_multiplier_scale = std::sqrt(static_cast<float>(c.hidden_size));
  c.output_multiplier_scale = 0.5773502691896257f;
  c.attn_output_multiplier = 3.0f;
  c.max_attn_value = 30.0f;
  c.tie_word_embeddings = true;
  NormalSource src(s.seed);
  const int64_t h = c.hidden_size, d = c.head_dim, f = c.intermediate_size;
  const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads;
  const float in_std = 1.0f / std::sqrt(static_cast<float>(h));
  TestModel m;
  auto add = [&](std::string n, ir::Tensor t) {
    m.tensors.emplace_back(std::move(n), std::move(t));
  };
  add("model.embed_tokens.weight", Random(src, {c.vocab_size, h}, 0.05f));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    add(p + "attn.q_proj.weight", Random(src, {nh * d, h}, in_std));
    add(p + "attn.k_proj.weight", Random(src, {nkv * d, h}, in_std));
    add(p + "attn.v_proj.weight", Random(src, {nkv * d, h}, in_std));
    add(p + "attn.o_proj.weight",
        Random(src, {h, nh * d}, 1.0f / std::sqrt(static_cast<float>(nh * d))));
    add(p + "moe_block.gate.weight", Random(src, {c.num_experts, h}, in_std));
    for (int64_t e = 0; e < c.num_experts; ++e) {
      const std::string x = absl::StrCat(p, "moe_block.experts.", e, ".");
      add(x + "linear.weight", Random(src, {f, h}, in_std));
      add(x + "linear_v.weight", Random(src, {f, h}, in_std));
      add(x + "linear_1.weight",
          Random(src, {h, f}, 1.0f / std::sqrt(static_cast<float>(f))));
    }
    for (const char* n :
         {"pre_attn_norm", "post_attn_norm", "pre_moe_norm", "post_moe_norm"})
      add(p + n + ".scale", Random(src, {h}, 0.1f, 1.0f));
  }
  add("model.norm.scale", Random(src, {h}, 0.1f, 1.0f));
  m.config = FromGrokConfig(c);
  return m;
}

std::string ConfigJson(const ModelConfig& m) {
  std::vector<std::string> f;
  auto kv = [&](const std::string& k, const std::string& v) {
    f.push_back(absl::StrCat("  ", base::JsonQuote(k), ": ", v));
  };
  auto num = [](double v) { return absl::StrFormat("%.9g", v); };
  kv("architectures", absl::StrCat("[", base::JsonQuote(m.architecture), "]"));
  kv("model_type", base::JsonQuote(m.model_type));
  kv("torch_dtype", "\"float32\"");
  kv("bos_token_id", "1");
  kv("eos_token_id", "2");
  kv("vocab_size", absl::StrCat(m.vocab_size));
  if (m.family == ModelFamily::kGrok) {
    // HPC-AI Tech's config.json fields (Grok1Config).
    const GrokConfig& c = m.grok;
    kv("hidden_size", absl::StrCat(c.hidden_size));
    kv("intermediate_size", absl::StrCat(c.intermediate_size));
    kv("num_hidden_layers", absl::StrCat(c.num_hidden_layers));
    kv("num_attention_heads", absl::StrCat(c.num_attention_heads));
    kv("num_key_value_heads", absl::StrCat(c.num_key_value_heads));
    kv("max_position_embeddings", absl::StrCat(c.max_position_embeddings));
    kv("rms_norm_eps", num(c.rms_norm_eps));
    kv("num_experts", absl::StrCat(c.num_experts));
    kv("num_experts_per_tok", absl::StrCat(c.num_experts_per_tok));
    kv("attn_output_multiplier", num(c.attn_output_multiplier));
    kv("max_attn_value", num(c.max_attn_value));
    kv("embedding_multiplier_scale", num(c.embedding_multiplier_scale));
    kv("output_multiplier_scale", num(c.output_multiplier_scale));
    kv("tie_word_embeddings", c.tie_word_embeddings ? "true" : "false");
    kv("auto_map",
       "{\"AutoConfig\": \"configuration_grok1.Grok1Config\", "
       "\"AutoModelForCausalLM\": \"modeling_grok1.Grok1ModelForCausalLM\"}");
  } else if (m.family == ModelFamily::kGemma3) {
    const Gemma3Config& c = m.gemma3;
    kv("hidden_size", absl::StrCat(c.hidden_size));
    kv("intermediate_size", absl::StrCat(c.intermediate_size));
    kv("num_hidden_layers", absl::StrCat(c.num_hidden_layers));
    kv("num_attention_heads", absl::StrCat(c.num_attention_heads));
    kv("num_key_value_heads", absl::StrCat(c.num_key_value_heads));
    kv("head_dim", absl::StrCat(c.head_dim));
    kv("hidden_activation", "\"gelu_pytorch_tanh\"");
    kv("max_position_embeddings", absl::StrCat(c.max_position_embeddings));
    kv("rms_norm_eps", num(c.rms_norm_eps));
    kv("rope_theta", num(c.rope_theta));
    kv("rope_local_base_freq", num(c.rope_local_base_freq));
    kv("rope_scaling", absl::StrCat("{\"rope_type\": \"linear\", \"factor\": ",
                                    num(c.rope_scaling.factor), "}"));
    kv("query_pre_attn_scalar", absl::StrCat(c.head_dim));
    kv("sliding_window", absl::StrCat(c.sliding_window));
    std::vector<std::string> types;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i)
      types.push_back(c.LayerIsSliding(i) ? "\"sliding_attention\""
                                          : "\"full_attention\"");
    kv("layer_types", absl::StrCat("[", absl::StrJoin(types, ", "), "]"));
    kv("final_logit_softcapping", "null");
    kv("attn_logit_softcapping", "null");
    kv("tie_word_embeddings", "true");
  } else if (m.family == ModelFamily::kLlama4) {
    const Llama4Config& c = m.llama4;
    kv("hidden_size", absl::StrCat(c.hidden_size));
    kv("intermediate_size", absl::StrCat(c.intermediate_size));
    kv("intermediate_size_mlp", absl::StrCat(c.intermediate_size_mlp));
    kv("num_hidden_layers", absl::StrCat(c.num_hidden_layers));
    kv("num_attention_heads", absl::StrCat(c.num_attention_heads));
    kv("num_key_value_heads", absl::StrCat(c.num_key_value_heads));
    kv("head_dim", absl::StrCat(c.head_dim));
    kv("hidden_act", "\"silu\"");
    kv("max_position_embeddings", absl::StrCat(c.max_position_embeddings));
    kv("rms_norm_eps", num(c.rms_norm_eps));
    kv("rope_theta", num(c.rope_theta));
    const RopeScaling& r = c.rope_scaling;
    kv("rope_scaling",
       absl::StrCat("{\"rope_type\": \"llama3\", \"factor\": ", num(r.factor),
                    ", \"low_freq_factor\": ", num(r.low_freq_factor),
                    ", \"high_freq_factor\": ", num(r.high_freq_factor),
                    ", \"original_max_position_embeddings\": ",
                    r.original_max_position_embeddings, "}"));
    kv("attention_chunk_size", absl::StrCat(c.attention_chunk_size));
    std::vector<std::string> rope;
    for (bool b : c.rope_layers) rope.push_back(b ? "1" : "0");
    kv("no_rope_layers", absl::StrCat("[", absl::StrJoin(rope, ", "), "]"));
    kv("interleave_moe_layer_step", "2");
    kv("num_local_experts", absl::StrCat(c.num_local_experts));
    kv("num_experts_per_tok", absl::StrCat(c.num_experts_per_tok));
    kv("use_qk_norm", c.use_qk_norm ? "true" : "false");
    kv("attn_temperature_tuning", c.attn_temperature_tuning ? "true" : "false");
    kv("floor_scale", absl::StrCat(c.floor_scale));
    kv("attn_scale", num(c.attn_scale));
    kv("attention_bias", "false");
    kv("tie_word_embeddings", "false");
  } else if (m.family == ModelFamily::kGpt2) {
    const Gpt2Config& c = m.gpt2;
    kv("n_positions", absl::StrCat(c.n_positions));
    kv("n_embd", absl::StrCat(c.n_embd));
    kv("n_layer", absl::StrCat(c.n_layer));
    kv("n_head", absl::StrCat(c.n_head));
    kv("n_inner", absl::StrCat(c.n_inner));
    kv("layer_norm_epsilon", num(c.layer_norm_epsilon));
    kv("activation_function", base::JsonQuote(c.activation_function));
    kv("scale_attn_weights", "true");
    kv("tie_word_embeddings", "true");
  } else {
    const LlamaConfig& c = m.llama;
    kv("hidden_size", absl::StrCat(c.hidden_size));
    kv("intermediate_size", absl::StrCat(c.intermediate_size));
    kv("num_hidden_layers", absl::StrCat(c.num_hidden_layers));
    kv("num_attention_heads", absl::StrCat(c.num_attention_heads));
    kv("num_key_value_heads", absl::StrCat(c.num_key_value_heads));
    if (c.head_dim != 0) kv("head_dim", absl::StrCat(c.head_dim));
    kv("hidden_act", "\"silu\"");
    kv("max_position_embeddings", absl::StrCat(c.max_position_embeddings));
    kv("rms_norm_eps", num(c.rms_norm_eps));
    kv("rope_theta", num(c.rope_theta));
    kv("tie_word_embeddings", c.tie_word_embeddings ? "true" : "false");
    if (m.model_type == "mistral")
      kv("sliding_window", absl::StrCat(c.sliding_window));
    if (m.model_type == "qwen2" || m.model_type == "qwen3" ||
        m.model_type == "qwen3_moe")
      kv("use_sliding_window", "false");
    if (m.model_type == "qwen3" || m.model_type == "qwen3_moe")
      kv("attention_bias", "false");
    if (m.model_type == "mixtral") {
      kv("num_local_experts", absl::StrCat(c.num_experts));
      kv("num_experts_per_tok", absl::StrCat(c.num_experts_per_tok));
      kv("sliding_window", "null");
    }
    if (m.model_type == "qwen3_moe") {
      kv("num_experts", absl::StrCat(c.num_experts));
      kv("num_experts_per_tok", absl::StrCat(c.num_experts_per_tok));
      kv("moe_intermediate_size", absl::StrCat(c.moe_intermediate_size));
      kv("norm_topk_prob", c.norm_topk_prob ? "true" : "false");
      kv("decoder_sparse_step", "1");
      std::vector<int64_t> dense;
      for (int64_t i = 0; i < c.num_hidden_layers; ++i)
        if (!c.LayerIsMoE(i)) dense.push_back(i);
      kv("mlp_only_layers", absl::StrCat("[", absl::StrJoin(dense, ", "), "]"));
    }
    if (m.model_type == "llama") kv("attention_bias", "false");
    const RopeScaling& r = c.rope_scaling;
    if (m.model_type == "phi3") {
      kv("sliding_window", absl::StrCat(c.sliding_window));
      kv("attention_bias", "false");
      if (r.type == RopeScaling::Type::kLongRope) {
        kv("original_max_position_embeddings",
           absl::StrCat(r.original_max_position_embeddings));
        auto list = [&](const std::vector<float>& v) {
          std::vector<std::string> p;
          for (float x : v) p.push_back(num(x));
          return absl::StrCat("[", absl::StrJoin(p, ", "), "]");
        };
        kv("rope_scaling",
           absl::StrCat("{\"type\": \"longrope\", \"long_factor\": ",
                        list(r.long_factor),
                        ", \"short_factor\": ", list(r.short_factor), "}"));
      }
    } else if (r.type != RopeScaling::Type::kNone) {
      const char* type = r.type == RopeScaling::Type::kLinear    ? "linear"
                         : r.type == RopeScaling::Type::kDynamic ? "dynamic"
                                                                 : "llama3";
      std::string rs = absl::StrCat("{\"rope_type\": \"", type,
                                    "\", \"factor\": ", num(r.factor));
      if (r.type == RopeScaling::Type::kLlama3) {
        absl::StrAppend(&rs, ", \"low_freq_factor\": ", num(r.low_freq_factor),
                        ", \"high_freq_factor\": ", num(r.high_freq_factor),
                        ", \"original_max_position_embeddings\": ",
                        r.original_max_position_embeddings);
      }
      kv("rope_scaling", rs + "}");
    }
  }
  return absl::StrCat("{\n", absl::StrJoin(f, ",\n"), "\n}\n");
}

}  // namespace

const std::vector<std::string>& TestModelArchitectures() {
  static const auto* kArchs = new std::vector<std::string>{
      "llama",       "mistral", "qwen2",     "qwen3", "gpt2",
      "gemma3_text", "mixtral", "qwen3_moe", "grok-1"};
  return *kArchs;
}

uint64_t DefaultTestSeed(const std::string& arch) {
  if (arch == "llama") return 42;
  if (arch == "mistral") return 42;
  if (arch == "qwen2") return 42;
  return 42;  // gpt2
}

std::vector<int64_t> TestPromptIds() {
  return {1, 300, 262, 318, 331, 270, 345, 290, 300, 262};
}

WeightMap TestModel::Weights() const {
  WeightMap w;
  for (const auto& [n, t] : tensors) w[n] = t;
  return w;
}

absl::StatusOr<TestModel> MakeTestModel(const TestModelSpec& spec) {
  if (spec.arch == "gpt2") return MakeGpt2(spec);
  if (spec.arch == "gemma3_text") return MakeGemma3(spec);
  if (spec.arch == "grok-1") return MakeGrok(spec);
  if (spec.arch == "llama4_text") return MakeLlama4(spec);
  if (spec.arch == "llama" || spec.arch == "mistral" || spec.arch == "qwen2" ||
      spec.arch == "qwen3" || spec.arch == "mixtral" ||
      spec.arch == "qwen3_moe" || spec.arch == "phi3")
    return MakeLlamaFamily(spec);
  return absl::InvalidArgumentError(absl::StrCat(
      "test model: unknown architecture '", spec.arch,
      "' (supported: ", absl::StrJoin(TestModelArchitectures(), ", "), ")"));
}

namespace {

void AddTestVocabToGguf(GgufWriter* g) {
  TestVocab vocab = MakeTestVocab();
  g->Add("tokenizer.ggml.model", GgufValue::String("llama"));
  g->Add("tokenizer.ggml.tokens", GgufValue::StringArray(vocab.pieces));
  g->Add("tokenizer.ggml.scores", GgufValue::F32Array(vocab.scores));
  g->Add("tokenizer.ggml.token_type", GgufValue::I32Array(vocab.types));
  g->Add("tokenizer.ggml.unknown_token_id", GgufValue::U32(0));
  g->Add("tokenizer.ggml.bos_token_id", GgufValue::U32(1));
  g->Add("tokenizer.ggml.eos_token_id", GgufValue::U32(2));
  g->Add("tokenizer.ggml.add_bos_token", GgufValue::Bool(true));
}

// As llama.cpp's convert_hf_to_gguf.py writes Gemma 3 (conversion/gemma.py):
// norm weights + 1, the global RoPE base and linear scaling, the window and
// (our pattern is not llama.cpp's default 6) the pattern.
absl::Status WriteGemma3Gguf(const TestModelSpec& s, const TestModel& tm,
                             const std::string& path) {
  const Gemma3Config& c = tm.config.gemma3;
  auto key = [](absl::string_view k) { return absl::StrCat("gemma3.", k); };
  GgufWriter g;
  g.Add("general.architecture", GgufValue::String("gemma3"));
  g.Add("general.name",
        GgufValue::String(absl::StrCat("qeff-test-gemma3-seed", s.seed)));
  g.Add(key("context_length"), GgufValue::U32(c.max_position_embeddings));
  g.Add(key("embedding_length"), GgufValue::U32(c.hidden_size));
  g.Add(key("feed_forward_length"), GgufValue::U32(c.intermediate_size));
  g.Add(key("block_count"), GgufValue::U32(c.num_hidden_layers));
  g.Add(key("attention.head_count"), GgufValue::U32(c.num_attention_heads));
  g.Add(key("attention.head_count_kv"), GgufValue::U32(c.num_key_value_heads));
  g.Add(key("attention.key_length"), GgufValue::U32(c.head_dim));
  g.Add(key("attention.value_length"), GgufValue::U32(c.head_dim));
  g.Add(key("attention.layer_norm_rms_epsilon"),
        GgufValue::F32(c.rms_norm_eps));
  g.Add(key("rope.freq_base"), GgufValue::F32(c.rope_theta));
  g.Add(key("rope.scaling.type"), GgufValue::String("linear"));
  g.Add(key("rope.scaling.factor"), GgufValue::F32(c.rope_scaling.factor));
  g.Add(key("attention.sliding_window"), GgufValue::U32(c.sliding_window));
  g.Add(key("attention.sliding_window_pattern"), GgufValue::U32(2));
  AddTestVocabToGguf(&g);
  const absl::flat_hash_map<std::string, std::string> kNames = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "post_attention_norm.weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
  };
  for (const auto& [name, tensor] : tm.tensors) {
    std::string gname;
    if (name == "model.embed_tokens.weight") {
      gname = "token_embd.weight";
    } else if (name == "model.norm.weight") {
      gname = "output_norm.weight";
    } else {
      const std::string rest = name.substr(name.find('.', 13) + 1);
      const std::string layer =
          name.substr(13, name.find('.', 13) - 13);  // model.layers.N.
      gname = absl::StrCat("blk.", layer, ".", kNames.at(rest));
    }
    ir::Tensor t = tensor;
    if (absl::EndsWith(name, "norm.weight")) {
      float* p = t.mutable_data<float>();
      for (int64_t i = 0; i < t.num_elements(); ++i) p[i] += 1.0f;
    } else if (s.gguf_weights != ir::QuantFormat::kNone && t.rank() == 2 &&
               t.dims()[1] % 32 == 0) {
      QEFF_ASSIGN_OR_RETURN(t, ir::Quantize(t, s.gguf_weights));
    }
    QEFF_RETURN_IF_ERROR(g.AddTensor(gname, t));
  }
  return g.WriteFile(path);
}

// Llama 4 as convert_hf_to_gguf.py writes it (conversion/llama4.py,
// Llama4Model): no Q/K permutation (HF's rows are already llama.cpp's
// interleaved layout), feed_forward_length = intermediate_size_mlp,
// expert_feed_forward_length = intermediate_size, the interleave step,
// fused experts split into ffn_{gate,up}_exps and transposed to
// [E, out, in], llama3 rope scaling as the rope_freqs.weight factors
// (LlamaModel.generate_extra_tensors). attention_chunk_size, floor_scale
// and the NoPE interval are not written: llama.cpp fixes them (8192, 8192,
// 4). The vocabulary is the SentencePiece test vocabulary.
absl::Status WriteLlama4Gguf(const TestModelSpec& s, const TestModel& tm,
                             const std::string& path) {
  const Llama4Config& c = tm.config.llama4;
  auto key = [](absl::string_view k) { return absl::StrCat("llama4.", k); };
  GgufWriter g;
  g.Add("general.architecture", GgufValue::String("llama4"));
  g.Add("general.name",
        GgufValue::String(absl::StrCat("qeff-test-llama4-seed", s.seed)));
  g.Add(key("block_count"), GgufValue::U32(c.num_hidden_layers));
  g.Add(key("context_length"), GgufValue::U32(c.max_position_embeddings));
  g.Add(key("embedding_length"), GgufValue::U32(c.hidden_size));
  g.Add(key("feed_forward_length"), GgufValue::U32(c.intermediate_size_mlp));
  g.Add(key("attention.head_count"), GgufValue::U32(c.num_attention_heads));
  g.Add(key("attention.head_count_kv"), GgufValue::U32(c.num_key_value_heads));
  g.Add(key("rope.freq_base"), GgufValue::F32(c.rope_theta));
  g.Add(key("attention.layer_norm_rms_epsilon"),
        GgufValue::F32(c.rms_norm_eps));
  g.Add(key("expert_count"), GgufValue::U32(c.num_local_experts));
  g.Add(key("expert_used_count"), GgufValue::U32(c.num_experts_per_tok));
  g.Add(key("attention.key_length"), GgufValue::U32(c.head_dim));
  g.Add(key("attention.value_length"), GgufValue::U32(c.head_dim));
  g.Add(key("vocab_size"), GgufValue::U32(c.vocab_size));
  g.Add(key("rope.dimension_count"), GgufValue::U32(c.head_dim));
  g.Add(key("interleave_moe_layer_step"), GgufValue::U32(2));
  g.Add(key("expert_feed_forward_length"), GgufValue::U32(c.intermediate_size));
  AddTestVocabToGguf(&g);
  const RopeScaling& r = c.rope_scaling;
  if (r.type == RopeScaling::Type::kLlama3) {
    const int64_t half = c.head_dim / 2;
    std::vector<float> factors(half);
    const float old = static_cast<float>(r.original_max_position_embeddings);
    const float low_wl = old / r.low_freq_factor,
                high_wl = old / r.high_freq_factor;
    for (int64_t i = 0; i < half; ++i) {
      const float freq =
          1.0f / std::pow(c.rope_theta, static_cast<float>(2 * i) /
                                            static_cast<float>(c.head_dim));
      const float wavelen = 2.0f * static_cast<float>(M_PI) / freq;
      if (wavelen < high_wl) {
        factors[i] = 1.0f;
      } else if (wavelen > low_wl) {
        factors[i] = r.factor;
      } else {
        const float smooth = (old / wavelen - r.low_freq_factor) /
                             (r.high_freq_factor - r.low_freq_factor);
        factors[i] = 1.0f / ((1 - smooth) / r.factor + smooth);
      }
    }
    QEFF_RETURN_IF_ERROR(
        g.AddTensor("rope_freqs.weight", ir::Tensor::F32({half}, factors)));
  } else if (r.type != RopeScaling::Type::kNone) {
    return absl::UnimplementedError(
        "test model: llama4 GGUF writes llama3 rope scaling only");
  }
  const absl::flat_hash_map<std::string, std::string> kNames = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"feed_forward.gate_proj.weight", "ffn_gate.weight"},
      {"feed_forward.up_proj.weight", "ffn_up.weight"},
      {"feed_forward.down_proj.weight", "ffn_down.weight"},
      {"feed_forward.router.weight", "ffn_gate_inp.weight"},
      {"feed_forward.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"},
      {"feed_forward.shared_expert.up_proj.weight", "ffn_up_shexp.weight"},
      {"feed_forward.shared_expert.down_proj.weight", "ffn_down_shexp.weight"},
  };
  // [E, rows, cols] -> [E, cols, rows] over columns [c0, c0 + n).
  // (In the requested block format when its rows allow.)
  auto transposed = [&](const ir::Tensor& t, int64_t c0,
                        int64_t n) -> absl::StatusOr<ir::Tensor> {
    const int64_t e = t.dims()[0], rows = t.dims()[1], cols = t.dims()[2];
    ir::Tensor o = ir::Tensor::Zeros(ir::DType::kF32, {e, n, rows});
    const float* src = t.data<float>();
    float* dst = o.mutable_data<float>();
    for (int64_t x = 0; x < e; ++x)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < n; ++j)
          dst[(x * n + j) * rows + i] = src[(x * rows + i) * cols + c0 + j];
    if (s.gguf_weights != ir::QuantFormat::kNone && rows % 32 == 0)
      return ir::Quantize(o, s.gguf_weights);
    return o;
  };
  for (const auto& [name, tensor] : tm.tensors) {
    if (name == "model.embed_tokens.weight") {
      QEFF_RETURN_IF_ERROR(g.AddTensor("token_embd.weight", tensor));
      continue;
    }
    if (name == "model.norm.weight") {
      QEFF_RETURN_IF_ERROR(g.AddTensor("output_norm.weight", tensor));
      continue;
    }
    if (name == "lm_head.weight") {
      QEFF_RETURN_IF_ERROR(g.AddTensor("output.weight", tensor));
      continue;
    }
    const std::string rest = name.substr(name.find('.', 13) + 1);
    const std::string blk =
        absl::StrCat("blk.", name.substr(13, name.find('.', 13) - 13), ".");
    if (rest == "feed_forward.experts.gate_up_proj") {
      const int64_t ff = tensor.dims()[2] / 2;
      QEFF_ASSIGN_OR_RETURN(ir::Tensor gate, transposed(tensor, 0, ff));
      QEFF_ASSIGN_OR_RETURN(ir::Tensor up, transposed(tensor, ff, ff));
      QEFF_RETURN_IF_ERROR(g.AddTensor(blk + "ffn_gate_exps.weight", gate));
      QEFF_RETURN_IF_ERROR(g.AddTensor(blk + "ffn_up_exps.weight", up));
      continue;
    }
    if (rest == "feed_forward.experts.down_proj") {
      QEFF_ASSIGN_OR_RETURN(ir::Tensor down,
                            transposed(tensor, 0, tensor.dims()[2]));
      QEFF_RETURN_IF_ERROR(g.AddTensor(blk + "ffn_down_exps.weight", down));
      continue;
    }
    ir::Tensor t = tensor;
    if (s.gguf_weights != ir::QuantFormat::kNone && t.rank() == 2 &&
        t.dims()[1] % 32 == 0 && !absl::EndsWith(name, "norm.weight")) {
      QEFF_ASSIGN_OR_RETURN(t, ir::Quantize(t, s.gguf_weights));
    }
    QEFF_RETURN_IF_ERROR(g.AddTensor(blk + kNames.at(rest), t));
  }
  return g.WriteFile(path);
}

// Grok-1 as llama.cpp's convert_hf_to_gguf.py writes it (conversion/
// grok.py, GrokModel): the base keys (no rope.freq_base: Grok1Config has no
// rope_theta), attn_logit_softcapping (the converter reads
// `attn_logit_softcapping`, default 30: Grok-1's max_attn_value),
// router_logit_softcapping 30, attention.output_scale, embedding_scale,
// logit_scale; experts stacked [E, out, in] as ffn_{gate,up,down}_exps
// (linear, linear_v, linear_1); tied head: no output.weight. Q/K as stored
// (NEOX rotation).
absl::Status WriteGrokGguf(const TestModelSpec& s, const TestModel& tm,
                           const std::string& path) {
  const GrokConfig& c = tm.config.grok;
  auto key = [](absl::string_view k) { return absl::StrCat("grok.", k); };
  GgufWriter g;
  g.Add("general.architecture", GgufValue::String("grok"));
  g.Add("general.name",
        GgufValue::String(absl::StrCat("qeff-test-grok-seed", s.seed)));
  g.Add(key("block_count"), GgufValue::U32(c.num_hidden_layers));
  g.Add(key("context_length"), GgufValue::U32(c.max_position_embeddings));
  g.Add(key("embedding_length"), GgufValue::U32(c.hidden_size));
  g.Add(key("feed_forward_length"), GgufValue::U32(c.intermediate_size));
  g.Add(key("attention.head_count"), GgufValue::U32(c.num_attention_heads));
  g.Add(key("attention.head_count_kv"), GgufValue::U32(c.num_key_value_heads));
  g.Add(key("attention.layer_norm_rms_epsilon"),
        GgufValue::F32(c.rms_norm_eps));
  g.Add(key("expert_count"), GgufValue::U32(c.num_experts));
  g.Add(key("expert_used_count"), GgufValue::U32(c.num_experts_per_tok));
  g.Add("general.file_type", GgufValue::U32(0));  // all f32
  g.Add(key("attn_logit_softcapping"), GgufValue::F32(c.max_attn_value));
  g.Add(key("router_logit_softcapping"), GgufValue::F32(30.0f));
  g.Add(key("attention.output_scale"),
        GgufValue::F32(c.attn_output_multiplier));
  g.Add(key("embedding_scale"), GgufValue::F32(c.embedding_multiplier_scale));
  g.Add(key("logit_scale"), GgufValue::F32(c.output_multiplier_scale));
  AddTestVocabToGguf(&g);
  const WeightMap w = tm.Weights();
  auto put = [&](const std::string& gname,
                 const ir::Tensor& t) -> absl::Status {
    ir::Tensor q = t;
    if (s.gguf_weights != ir::QuantFormat::kNone && t.rank() >= 2 &&
        t.dims().back() % 32 == 0 &&
        !absl::StrContains(gname, "ffn_gate_inp")) {
      QEFF_ASSIGN_OR_RETURN(q, ir::Quantize(t, s.gguf_weights));
    }
    return g.AddTensor(gname, q);
  };
  QEFF_RETURN_IF_ERROR(
      put("token_embd.weight", w.at("model.embed_tokens.weight")));
  const int64_t E = c.num_experts, f = c.intermediate_size, h = c.hidden_size;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    const std::string b = absl::StrCat("blk.", i, ".");
    const std::pair<const char*, const char*> kPlain[] = {
        {"pre_attn_norm.scale", "attn_norm.weight"},
        {"attn.q_proj.weight", "attn_q.weight"},
        {"attn.k_proj.weight", "attn_k.weight"},
        {"attn.v_proj.weight", "attn_v.weight"},
        {"attn.o_proj.weight", "attn_output.weight"},
        {"post_attn_norm.scale", "attn_output_norm.weight"},
        {"pre_moe_norm.scale", "ffn_norm.weight"},
        {"moe_block.gate.weight", "ffn_gate_inp.weight"},
        {"post_moe_norm.scale", "layer_output_norm.weight"},
    };
    for (const auto& [hf, gg] : kPlain) {
      if (s.gguf_fused_qkv &&
          (absl::StrContains(hf, "q_proj") || absl::StrContains(hf, "k_proj") ||
           absl::StrContains(hf, "v_proj")))
        continue;
      QEFF_RETURN_IF_ERROR(put(b + gg, w.at(p + hf)));
    }
    if (s.gguf_fused_qkv) {
      // One attn_qkv: q rows, then k, then v.
      const ir::Tensor& q = w.at(p + "attn.q_proj.weight");
      const ir::Tensor& k = w.at(p + "attn.k_proj.weight");
      const ir::Tensor& v = w.at(p + "attn.v_proj.weight");
      ir::Tensor qkv = ir::Tensor::Zeros(
          ir::DType::kF32, {q.dims()[0] + k.dims()[0] + v.dims()[0], h});
      float* dst = qkv.mutable_data<float>();
      for (const ir::Tensor* t : {&q, &k, &v}) {
        std::memcpy(dst, t->data<float>(), t->num_elements() * sizeof(float));
        dst += t->num_elements();
      }
      QEFF_RETURN_IF_ERROR(put(b + "attn_qkv.weight", qkv));
    }
    for (const auto& [role, gg] :
         {std::pair<const char*, const char*>{"linear", "ffn_gate_exps.weight"},
          {"linear_v", "ffn_up_exps.weight"},
          {"linear_1", "ffn_down_exps.weight"}}) {
      const bool down = std::string(role) == "linear_1";
      const int64_t rows = down ? h : f, cols = down ? f : h;
      ir::Tensor st = ir::Tensor::Zeros(ir::DType::kF32, {E, rows, cols});
      for (int64_t e = 0; e < E; ++e) {
        const ir::Tensor& t = w.at(
            absl::StrCat(p, "moe_block.experts.", e, ".", role, ".weight"));
        std::memcpy(st.mutable_data<float>() + e * rows * cols, t.data<float>(),
                    rows * cols * sizeof(float));
      }
      QEFF_RETURN_IF_ERROR(put(b + gg, st));
    }
  }
  QEFF_RETURN_IF_ERROR(put("output_norm.weight", w.at("model.norm.scale")));
  return g.WriteFile(path);
}

// GPT-2 as convert_hf_to_gguf.py writes it (conversion/gpt2.py): Conv1D
// weights transposed to [out, in], the byte-level BPE vocabulary with merges.
absl::Status WriteGpt2Gguf(const TestModelSpec& s, const TestModel& tm,
                           const std::string& path) {
  const Gpt2Config& c = tm.config.gpt2;
  const HfVocabSource v = TestHfVocab(ModelFamily::kGpt2);
  GgufWriter g;
  g.Add("general.architecture", GgufValue::String("gpt2"));
  g.Add("general.name",
        GgufValue::String(absl::StrCat("qeff-test-gpt2-seed", s.seed)));
  g.Add("gpt2.block_count", GgufValue::U32(c.n_layer));
  g.Add("gpt2.context_length", GgufValue::U32(c.n_positions));
  g.Add("gpt2.embedding_length", GgufValue::U32(c.n_embd));
  g.Add("gpt2.feed_forward_length", GgufValue::U32(c.Inner()));
  g.Add("gpt2.attention.head_count", GgufValue::U32(c.n_head));
  g.Add("gpt2.attention.layer_norm_epsilon",
        GgufValue::F32(c.layer_norm_epsilon));
  g.Add("tokenizer.ggml.model", GgufValue::String("gpt2"));
  g.Add("tokenizer.ggml.pre", GgufValue::String(v.pre));
  g.Add("tokenizer.ggml.tokens", GgufValue::StringArray(v.tokens));
  g.Add("tokenizer.ggml.token_type", GgufValue::I32Array(v.types));
  g.Add("tokenizer.ggml.merges", GgufValue::StringArray(v.merges));
  g.Add("tokenizer.ggml.bos_token_id", GgufValue::U32(v.bos_id));
  g.Add("tokenizer.ggml.eos_token_id", GgufValue::U32(v.eos_id));
  const WeightMap w = tm.Weights();
  auto put = [&](const std::string& gguf_name, const std::string& hf_name,
                 bool conv1d) -> absl::Status {
    auto it = w.find(hf_name);
    if (it == w.end())
      return absl::InternalError(absl::StrCat("test gpt2: no ", hf_name));
    ir::Tensor t = it->second;
    if (conv1d) {
      const int64_t in = t.dims()[0], out = t.dims()[1];
      ir::Tensor tt = ir::Tensor::Zeros(ir::DType::kF32, {out, in});
      const float* src = t.data<float>();
      float* dst = tt.mutable_data<float>();
      for (int64_t i = 0; i < in; ++i)
        for (int64_t o = 0; o < out; ++o) dst[o * in + i] = src[i * out + o];
      t = std::move(tt);
      if (s.gguf_weights != ir::QuantFormat::kNone && in % 32 == 0) {
        QEFF_ASSIGN_OR_RETURN(t, ir::Quantize(t, s.gguf_weights));
      }
    }
    return g.AddTensor(gguf_name, t);
  };
  QEFF_RETURN_IF_ERROR(put("token_embd.weight", "wte.weight", false));
  QEFF_RETURN_IF_ERROR(put("position_embd.weight", "wpe.weight", false));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string b = absl::StrCat("blk.", i, "."),
                      p = absl::StrCat("h.", i, ".");
    for (const auto& [gg, h, conv] :
         std::vector<std::tuple<const char*, const char*, bool>>{
             {"attn_norm.weight", "ln_1.weight", false},
             {"attn_norm.bias", "ln_1.bias", false},
             {"attn_qkv.weight", "attn.c_attn.weight", true},
             {"attn_qkv.bias", "attn.c_attn.bias", false},
             {"attn_output.weight", "attn.c_proj.weight", true},
             {"attn_output.bias", "attn.c_proj.bias", false},
             {"ffn_norm.weight", "ln_2.weight", false},
             {"ffn_norm.bias", "ln_2.bias", false},
             {"ffn_up.weight", "mlp.c_fc.weight", true},
             {"ffn_up.bias", "mlp.c_fc.bias", false},
             {"ffn_down.weight", "mlp.c_proj.weight", true},
             {"ffn_down.bias", "mlp.c_proj.bias", false}}) {
      QEFF_RETURN_IF_ERROR(put(b + gg, p + h, conv));
    }
  }
  QEFF_RETURN_IF_ERROR(put("output_norm.weight", "ln_f.weight", false));
  QEFF_RETURN_IF_ERROR(put("output_norm.bias", "ln_f.bias", false));
  return g.WriteFile(path);
}

}  // namespace

absl::Status WriteTestModelGguf(const TestModelSpec& s,
                                const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(TestModel tm, MakeTestModel(s));
  if (tm.config.family == ModelFamily::kGpt2) return WriteGpt2Gguf(s, tm, path);
  if (tm.config.family == ModelFamily::kGemma3)
    return WriteGemma3Gguf(s, tm, path);
  if (tm.config.family == ModelFamily::kGrok) return WriteGrokGguf(s, tm, path);
  if (tm.config.family == ModelFamily::kLlama4)
    return WriteLlama4Gguf(s, tm, path);
  const LlamaConfig& c = tm.config.llama;
  if (c.rope_scaling.type != RopeScaling::Type::kNone && s.arch != "phi3") {
    return absl::UnimplementedError(
        "test model: rope_scaling is not written to GGUF test models");
  }
  WeightMap w = tm.Weights();
  // llama.cpp converts Mistral as "llama"; Qwen2/Qwen3 have their own
  // architectures and keep HF's rotate-half Q/K layout.
  const std::string arch =
      (s.arch == "qwen2" || s.arch == "qwen3" || s.arch == "phi3")
          ? s.arch
          : (s.arch == "qwen3_moe" ? "qwen3moe" : "llama");
  const bool permute = arch == "llama";
  auto key = [&](absl::string_view k) { return absl::StrCat(arch, ".", k); };
  GgufWriter g;
  g.Add("general.architecture", GgufValue::String(arch));
  // llama.cpp looks up Phi-3's own special tokens (<|endoftext|>) when the
  // name says "phi3", which the test vocabulary does not have.
  g.Add("general.name",
        GgufValue::String(
            s.arch == "llama" ? absl::StrCat("qeff-test-llama-seed", s.seed)
            : s.arch == "phi3"
                ? absl::StrCat("qeff-test-fused-longrope-seed", s.seed)
                : absl::StrCat("qeff-test-", s.arch, "-seed", s.seed)));
  g.Add(key("context_length"), GgufValue::U32(c.max_position_embeddings));
  g.Add(key("embedding_length"), GgufValue::U32(c.hidden_size));
  g.Add(key("feed_forward_length"), GgufValue::U32(c.intermediate_size));
  g.Add(key("block_count"), GgufValue::U32(c.num_hidden_layers));
  g.Add(key("attention.head_count"), GgufValue::U32(c.num_attention_heads));
  g.Add(key("attention.head_count_kv"), GgufValue::U32(c.num_key_value_heads));
  g.Add(key("attention.layer_norm_rms_epsilon"),
        GgufValue::F32(c.rms_norm_eps));
  g.Add(key("rope.freq_base"), GgufValue::F32(c.rope_theta));
  g.Add(key("rope.dimension_count"), GgufValue::U32(c.HeadDim()));
  if (c.head_dim != 0) {
    g.Add(key("attention.key_length"), GgufValue::U32(c.head_dim));
    g.Add(key("attention.value_length"), GgufValue::U32(c.head_dim));
  }
  if (c.sliding_window > 0)
    g.Add(key("attention.sliding_window"), GgufValue::U32(c.sliding_window));
  if (c.rope_scaling.type == RopeScaling::Type::kLongRope) {
    g.Add(key("rope.scaling.original_context_length"),
          GgufValue::U32(c.rope_scaling.original_max_position_embeddings));
    g.Add(key("rope.scaling.attn_factor"),
          GgufValue::F32(c.rope_scaling.attention_factor));
  }
  for (int64_t i = 0; c.num_experts > 0 && i < c.num_hidden_layers; ++i) {
    if (!c.LayerIsMoE(i)) {
      return absl::UnimplementedError(absl::StrCat(
          "test model: dense layer ", i,
          " in a MoE model is not representable in GGUF (llama.cpp's ", arch,
          " has experts in every layer)"));
    }
  }
  if (c.num_experts > 0) {
    g.Add(key("expert_count"), GgufValue::U32(c.num_experts));
    g.Add(key("expert_used_count"), GgufValue::U32(c.num_experts_per_tok));
    if (c.moe_intermediate_size > 0)
      g.Add(key("expert_feed_forward_length"),
            GgufValue::U32(c.moe_intermediate_size));
  }
  AddTestVocabToGguf(&g);
  auto put = [&](const std::string& gguf_name, const std::string& hf_name,
                 int permute_heads) -> absl::Status {
    auto it = w.find(hf_name);
    if (it == w.end()) return absl::OkStatus();  // optional (bias, lm_head)
    ir::Tensor t = it->second;
    if (permute && permute_heads > 0) {
      QEFF_ASSIGN_OR_RETURN(t, PermuteQK(t, permute_heads));
    }
    if (s.gguf_weights != ir::QuantFormat::kNone && t.rank() == 2 &&
        t.dims()[1] % 32 == 0) {
      QEFF_ASSIGN_OR_RETURN(t, ir::Quantize(t, s.gguf_weights));
    }
    return g.AddTensor(gguf_name, t);
  };
  // Experts stacked [E, out, in] as ffn_{gate,up,down}_exps.
  auto put_experts = [&](const std::string& gguf_name, const std::string& m,
                         const std::string& role) -> absl::Status {
    std::vector<const ir::Tensor*> parts;
    for (int64_t e = 0; e < c.num_experts; ++e) {
      auto it = w.find(absl::StrCat(m, "experts.", e, ".", role, ".weight"));
      if (it == w.end())
        return absl::InternalError(absl::StrCat("test model: no ", role));
      parts.push_back(&it->second);
    }
    const int64_t out = parts[0]->dims()[0], in = parts[0]->dims()[1];
    ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, {c.num_experts, out, in});
    for (int64_t e = 0; e < c.num_experts; ++e)
      std::memcpy(t.mutable_raw() + e * parts[e]->byte_size(), parts[e]->raw(),
                  parts[e]->byte_size());
    if (s.gguf_weights != ir::QuantFormat::kNone && in % 32 == 0) {
      QEFF_ASSIGN_OR_RETURN(t, ir::Quantize(t, s.gguf_weights));
    }
    return g.AddTensor(gguf_name, t);
  };
  QEFF_RETURN_IF_ERROR(
      put("token_embd.weight", "model.embed_tokens.weight", 0));
  if (c.rope_scaling.type == RopeScaling::Type::kLongRope) {
    const int64_t half =
        static_cast<int64_t>(c.rope_scaling.long_factor.size());
    QEFF_RETURN_IF_ERROR(
        g.AddTensor("rope_factors_long.weight",
                    ir::Tensor::F32({half}, c.rope_scaling.long_factor)));
    QEFF_RETURN_IF_ERROR(
        g.AddTensor("rope_factors_short.weight",
                    ir::Tensor::F32({half}, c.rope_scaling.short_factor)));
  }
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string b = absl::StrCat("blk.", i, "."),
                p = absl::StrCat("model.layers.", i, ".");
    if (s.gguf_fused_qkv && !permute) {
      // One attn_qkv (q rows, k rows, v rows) instead of attn_q/k/v.
      for (const char* kind : {"weight", "bias"}) {
        std::vector<ir::Tensor> parts;
        for (const char* r : {"q_proj.", "k_proj.", "v_proj."}) {
          auto it = w.find(absl::StrCat(p, "self_attn.", r, kind));
          if (it != w.end()) parts.push_back(it->second);
        }
        if (parts.size() != 3) continue;
        std::vector<int64_t> dims = parts[0].dims();
        dims[0] = 0;
        for (const ir::Tensor& t : parts) dims[0] += t.dims()[0];
        ir::Tensor f = ir::Tensor::Zeros(ir::DType::kF32, dims);
        size_t off = 0;
        for (const ir::Tensor& t : parts) {
          std::memcpy(f.mutable_raw() + off, t.raw(), t.byte_size());
          off += t.byte_size();
        }
        w[absl::StrCat(p, "self_attn.qkv_proj.", kind)] = std::move(f);
        for (const char* r : {"q_proj.", "k_proj.", "v_proj."})
          w.erase(absl::StrCat(p, "self_attn.", r, kind));
      }
    }
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_norm.weight", p + "input_layernorm.weight", 0));
    QEFF_RETURN_IF_ERROR(put(b + "attn_q.weight", p + "self_attn.q_proj.weight",
                             c.num_attention_heads));
    QEFF_RETURN_IF_ERROR(put(b + "attn_k.weight", p + "self_attn.k_proj.weight",
                             c.num_key_value_heads));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_v.weight", p + "self_attn.v_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_qkv.weight", p + "self_attn.qkv_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_qkv.bias", p + "self_attn.qkv_proj.bias", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "ffn_up.weight", p + "mlp.gate_up_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_q.bias", p + "self_attn.q_proj.bias", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_k.bias", p + "self_attn.k_proj.bias", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_v.bias", p + "self_attn.v_proj.bias", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_q_norm.weight", p + "self_attn.q_norm.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_k_norm.weight", p + "self_attn.k_norm.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "attn_output.weight", p + "self_attn.o_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "ffn_norm.weight", p + "post_attention_layernorm.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "ffn_gate.weight", p + "mlp.gate_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(put(b + "ffn_up.weight", p + "mlp.up_proj.weight", 0));
    QEFF_RETURN_IF_ERROR(
        put(b + "ffn_down.weight", p + "mlp.down_proj.weight", 0));
    if (c.LayerIsMoE(i)) {
      const bool mixtral = c.moe_style == "mixtral";
      const std::string m = p + (mixtral ? "block_sparse_moe." : "mlp.");
      QEFF_RETURN_IF_ERROR(
          put(b + "ffn_gate_inp.weight", m + "gate.weight", 0));
      QEFF_RETURN_IF_ERROR(put_experts(b + "ffn_gate_exps.weight", m,
                                       mixtral ? "w1" : "gate_proj"));
      QEFF_RETURN_IF_ERROR(
          put_experts(b + "ffn_up_exps.weight", m, mixtral ? "w3" : "up_proj"));
      QEFF_RETURN_IF_ERROR(put_experts(b + "ffn_down_exps.weight", m,
                                       mixtral ? "w2" : "down_proj"));
    }
  }
  QEFF_RETURN_IF_ERROR(put("output_norm.weight", "model.norm.weight", 0));
  if (!c.tie_word_embeddings)
    QEFF_RETURN_IF_ERROR(put("output.weight", "lm_head.weight", 0));
  return g.WriteFile(path);
}

absl::Status WriteTestModelHf(const TestModelSpec& spec, const std::string& dir,
                              bool also_gguf) {
  QEFF_ASSIGN_OR_RETURN(TestModel tm, MakeTestModel(spec));
  QEFF_RETURN_IF_ERROR(base::MakeDirs(dir));
  QEFF_ASSIGN_OR_RETURN(std::string st,
                        SerializeSafetensors(tm.tensors, {{"format", "pt"}}));
  QEFF_RETURN_IF_ERROR(
      base::WriteFileAtomically(dir + "/model.safetensors", st));
  QEFF_RETURN_IF_ERROR(
      base::WriteFileAtomically(dir + "/config.json", ConfigJson(tm.config)));
  QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
      dir + "/generation_config.json",
      "{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n "
      " \"do_sample\": false\n}\n"));
  if (tm.config.family != ModelFamily::kGpt2) {
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
        dir + "/tokenizer_config.json",
        "{\n  \"add_bos_token\": true,\n  \"add_eos_token\": false,\n"
        "  \"bos_token\": \"<s>\",\n  \"eos_token\": \"</s>\",\n"
        "  \"unk_token\": \"<unk>\",\n  \"tokenizer_class\": "
        "\"LlamaTokenizer\"\n}\n"));
  }
  // tokenizer.json: the SentencePiece test vocabulary in Llama-2 form for
  // the llama family (the GGUF's vocabulary); a byte-level BPE vocabulary
  // of the same size for gpt2.
  QEFF_ASSIGN_OR_RETURN(HfTokenizerFiles tok,
                        MakeHfTokenizerFiles(TestHfVocab(tm.config.family)));
  QEFF_RETURN_IF_ERROR(
      base::WriteFileAtomically(dir + "/tokenizer.json", tok.tokenizer_json));
  if (tm.config.family == ModelFamily::kGpt2) {
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
        dir + "/tokenizer_config.json", tok.tokenizer_config_json));
  }
  if (also_gguf) {
    QEFF_RETURN_IF_ERROR(WriteTestModelGguf(spec, dir + "/model.gguf"));
  }
  return absl::OkStatus();
}

}  // namespace qeff::models
