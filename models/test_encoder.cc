#include "models/test_encoder.h"

#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "models/bert_gguf.h"
#include "models/gguf.h"
#include "models/gguf_writer.h"
#include "models/hf_tokenizer_writer.h"
#include "models/safetensors.h"

namespace qeff::models {
namespace {

// Uniform in [-scale, scale] (mean of zero; the built-in vocabulary is
// small, so scales are chosen to give O(1) activations).
class Uniform {
 public:
  explicit Uniform(uint64_t seed) : rng_(seed) {}
  ir::Tensor Tensor(std::vector<int64_t> dims, float scale, float center = 0) {
    ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, std::move(dims));
    float* p = t.mutable_data<float>();
    for (int64_t i = 0; i < t.num_elements(); ++i) {
      const double u = static_cast<double>(rng_() >> 11) / 9007199254740992.0;
      p[i] = center + scale * static_cast<float>(2 * u - 1);
    }
    return t;
  }

 private:
  std::mt19937_64 rng_;
};

HfVocabSource BuiltInVocab() {
  HfVocabSource v;
  v.model = "bert";
  v.lowercase = true;
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    v.tokens.push_back(s);
    v.types.push_back(3);
  }
  v.types[1] = 2;
  v.unk_id = 1;
  v.bos_id = 2;
  v.eos_id = 3;
  auto add = [&](const std::string& t) {
    v.tokens.push_back(t);
    v.types.push_back(1);
  };
  const std::string kStart = "\xe2\x96\x81";  // U+2581: a word's first piece
  for (char c = 'a'; c <= 'z'; ++c) {
    add(kStart + c);
    add(std::string(1, c));
  }
  for (const char* w : {"hello", "world", "the", "cat", "sat", "on", "mat",
                        "embedding", "sentence", "is", "a", "test", "of"})
    if (std::string(w).size() > 1) add(kStart + w);
  for (const char* p : {".", ",", "!", "?"}) add(kStart + p);
  v.scores.assign(v.tokens.size(), 0.0f);
  return v;
}

absl::StatusOr<HfVocabSource> Vocab(const TestBertSpec& spec) {
  if (spec.vocab_gguf.empty()) return BuiltInVocab();
  QEFF_ASSIGN_OR_RETURN(GgufFile f, ReadGguf(spec.vocab_gguf));
  QEFF_ASSIGN_OR_RETURN(HfVocabSource v, HfVocabSourceFromGguf(f));
  if (v.model != "bert")
    return absl::InvalidArgumentError(
        absl::StrCat(spec.vocab_gguf, ": tokenizer.ggml.model is '", v.model,
                     "', not bert"));
  return v;
}

// NomicBertModel tensors in HF names, in file order.
std::vector<std::pair<std::string, ir::Tensor>> NomicWeights(
    const TestBertSpec& s, int64_t vocab) {
  Uniform u(s.seed);
  const int64_t h = s.hidden_size, ff = s.intermediate_size;
  std::vector<std::pair<std::string, ir::Tensor>> w;
  w.emplace_back("embeddings.word_embeddings.weight", u.Tensor({vocab, h}, 1));
  w.emplace_back("embeddings.token_type_embeddings.weight",
                 u.Tensor({s.type_vocab_size, h}, 0.5f));
  auto norm = [&](const std::string& n) {
    w.emplace_back(n + ".weight", u.Tensor({h}, 0.2f, 1.0f));
    w.emplace_back(n + ".bias", u.Tensor({h}, 0.2f));
  };
  auto proj = [&](const std::string& n, int64_t out, int64_t in) {
    w.emplace_back(n + ".weight", u.Tensor({out, in}, 1.7f / std::sqrt(in)));
  };
  norm("emb_ln");
  for (int64_t i = 0; i < s.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("encoder.layers.", i);
    proj(p + ".attn.Wqkv", 3 * h, h);
    proj(p + ".attn.out_proj", h, h);
    norm(p + ".norm1");
    proj(p + ".mlp.fc11", ff, h);
    proj(p + ".mlp.fc12", ff, h);
    proj(p + ".mlp.fc2", h, ff);
    norm(p + ".norm2");
  }
  return w;
}

// BertModel (or NomicBertModel) tensors in HF names, in file order.
std::vector<std::pair<std::string, ir::Tensor>> Weights(const TestBertSpec& s,
                                                        int64_t vocab) {
  if (s.arch == "nomic-bert") return NomicWeights(s, vocab);
  Uniform u(s.seed);
  const int64_t h = s.hidden_size, ff = s.intermediate_size;
  std::vector<std::pair<std::string, ir::Tensor>> w;
  w.emplace_back("embeddings.word_embeddings.weight", u.Tensor({vocab, h}, 1));
  w.emplace_back("embeddings.position_embeddings.weight",
                 u.Tensor({s.max_position_embeddings, h}, 0.5f));
  w.emplace_back("embeddings.token_type_embeddings.weight",
                 u.Tensor({s.type_vocab_size, h}, 0.5f));
  auto norm = [&](const std::string& n) {
    w.emplace_back(n + ".weight", u.Tensor({h}, 0.2f, 1.0f));
    w.emplace_back(n + ".bias", u.Tensor({h}, 0.2f));
  };
  auto dense = [&](const std::string& n, int64_t out, int64_t in) {
    w.emplace_back(n + ".weight", u.Tensor({out, in}, 1.7f / std::sqrt(in)));
    w.emplace_back(n + ".bias", u.Tensor({out}, 0.1f));
  };
  norm("embeddings.LayerNorm");
  for (int64_t i = 0; i < s.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("encoder.layer.", i);
    dense(p + ".attention.self.query", h, h);
    dense(p + ".attention.self.key", h, h);
    dense(p + ".attention.self.value", h, h);
    dense(p + ".attention.output.dense", h, h);
    norm(p + ".attention.output.LayerNorm");
    dense(p + ".intermediate.dense", ff, h);
    dense(p + ".output.dense", h, ff);
    norm(p + ".output.LayerNorm");
  }
  return w;
}

// BertModel / NomicBertModel name -> llama.cpp's (the inverse of
// BertGgufToHfName / NomicBertGgufToHfName).
std::string GgufName(const std::string& arch, const std::string& hf) {
  if (arch == "nomic-bert") {
    for (const char* g : {"token_embd.weight", "token_types.weight",
                          "token_embd_norm.weight", "token_embd_norm.bias"})
      if (NomicBertGgufToHfName(g) == hf) return g;
    const size_t a = hf.find('.', 15);  // encoder.layers.N.
    const std::string layer = hf.substr(15, a - 15);
    for (const char* role :
         {"attn_qkv.weight", "attn_output.weight", "attn_output_norm.weight",
          "attn_output_norm.bias", "ffn_up.weight", "ffn_gate.weight",
          "ffn_down.weight", "layer_output_norm.weight",
          "layer_output_norm.bias"}) {
      const std::string g = absl::StrCat("blk.", layer, ".", role);
      if (NomicBertGgufToHfName(g) == hf) return g;
    }
    return "";
  }
  static const char* const kTop[] = {
      "token_embd.weight",      "token_types.weight",   "position_embd.weight",
      "token_embd_norm.weight", "token_embd_norm.bias",
  };
  for (const char* g : kTop)
    if (BertGgufToHfName(g) == hf) return g;
  // encoder.layer.N.<role>.{weight,bias}
  const size_t a = hf.find('.', 14);
  const std::string layer = hf.substr(14, a - 14);
  for (const char* role :
       {"attn_q", "attn_k", "attn_v", "attn_output", "attn_output_norm",
        "ffn_up", "ffn_down", "layer_output_norm"})
    for (const char* sfx : {".weight", ".bias"}) {
      const std::string g = absl::StrCat("blk.", layer, ".", role, sfx);
      if (BertGgufToHfName(g) == hf) return g;
    }
  return "";
}

}  // namespace

absl::Status WriteTestBertHf(const TestBertSpec& spec, const std::string& dir) {
  QEFF_ASSIGN_OR_RETURN(HfVocabSource v, Vocab(spec));
  const int64_t vocab = static_cast<int64_t>(v.tokens.size());
  QEFF_RETURN_IF_ERROR(base::MakeDirs(dir));
  const std::string config =
      spec.arch == "nomic-bert"
          ? absl::StrCat(
                "{\"architectures\": [\"NomicBertModel\"], \"model_type\": "
                "\"nomic_bert\", \"vocab_size\": ",
                vocab, ", \"n_embd\": ", spec.hidden_size,
                ", \"n_layer\": ", spec.num_hidden_layers,
                ", \"n_head\": ", spec.num_attention_heads,
                ", \"n_inner\": ", spec.intermediate_size,
                ", \"n_positions\": ", spec.max_position_embeddings,
                ", \"type_vocab_size\": ", spec.type_vocab_size,
                ", \"layer_norm_epsilon\": ", spec.layer_norm_eps,
                ", \"rotary_emb_base\": ", spec.rope_theta,
                ", \"rotary_emb_fraction\": 1.0, \"rotary_emb_interleaved\": "
                "false, \"activation_function\": \"swiglu\", "
                "\"qkv_proj_bias\": false, \"mlp_fc1_bias\": false, "
                "\"mlp_fc2_bias\": false, \"prenorm\": false, \"causal\": "
                "false}\n")
          : absl::StrCat(
                "{\"architectures\": [\"BertModel\"], \"model_type\": "
                "\"bert\", "
                "\"vocab_size\": ",
                vocab, ", \"hidden_size\": ", spec.hidden_size,
                ", \"num_hidden_layers\": ", spec.num_hidden_layers,
                ", \"num_attention_heads\": ", spec.num_attention_heads,
                ", \"intermediate_size\": ", spec.intermediate_size,
                ", \"max_position_embeddings\": ", spec.max_position_embeddings,
                ", \"type_vocab_size\": ", spec.type_vocab_size,
                ", \"layer_norm_eps\": ", spec.layer_norm_eps,
                ", \"hidden_act\": \"", spec.hidden_act,
                "\", \"position_embedding_type\": \"absolute\", "
                "\"pad_token_id\": 0}\n");
  QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(dir + "/config.json", config));
  QEFF_ASSIGN_OR_RETURN(std::string st,
                        SerializeSafetensors(Weights(spec, vocab)));
  QEFF_RETURN_IF_ERROR(
      base::WriteFileAtomically(dir + "/model.safetensors", st));
  QEFF_ASSIGN_OR_RETURN(HfTokenizerFiles t, MakeHfTokenizerFiles(v));
  QEFF_RETURN_IF_ERROR(
      base::WriteFileAtomically(dir + "/tokenizer.json", t.tokenizer_json));
  return base::WriteFileAtomically(dir + "/tokenizer_config.json",
                                   t.tokenizer_config_json);
}

absl::Status WriteTestBertGguf(const TestBertSpec& spec,
                               const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(HfVocabSource v, Vocab(spec));
  GgufWriter w;
  const std::string& a = spec.arch;
  w.Add("general.architecture", GgufValue::String(a));
  w.Add("general.name", GgufValue::String("qeff test " + a));
  auto u32 = [](int64_t v) { return GgufValue::U32(static_cast<uint32_t>(v)); };
  w.Add(a + ".context_length", u32(spec.max_position_embeddings));
  w.Add(a + ".embedding_length", u32(spec.hidden_size));
  w.Add(a + ".feed_forward_length", u32(spec.intermediate_size));
  w.Add(a + ".block_count", u32(spec.num_hidden_layers));
  w.Add(a + ".attention.head_count", u32(spec.num_attention_heads));
  w.Add(a + ".attention.layer_norm_epsilon",
        GgufValue::F32(spec.layer_norm_eps));
  w.Add(a + ".attention.causal", GgufValue::Bool(false));
  w.Add(a + ".pooling_type", GgufValue::U32(1));  // mean
  if (a == "nomic-bert")
    w.Add(a + ".rope.freq_base", GgufValue::F32(spec.rope_theta));
  w.Add("tokenizer.ggml.model", GgufValue::String("bert"));
  w.Add("tokenizer.ggml.tokens", GgufValue::StringArray(v.tokens));
  w.Add("tokenizer.ggml.token_type", GgufValue::I32Array(v.types));
  w.Add("tokenizer.ggml.token_type_count",
        GgufValue::U32(static_cast<uint32_t>(spec.type_vocab_size)));
  w.Add("tokenizer.ggml.bos_token_id", GgufValue::U32(v.bos_id));
  w.Add("tokenizer.ggml.seperator_token_id", GgufValue::U32(v.eos_id));
  w.Add("tokenizer.ggml.unknown_token_id", GgufValue::U32(v.unk_id));
  w.Add("tokenizer.ggml.padding_token_id", GgufValue::U32(0));
  // No add_bos/add_eos keys, as convert_hf_to_gguf.py writes BERT vocabs:
  // llama.cpp's WordPiece adds [CLS] and [SEP] by default.
  for (auto& [name, t] : Weights(spec, static_cast<int64_t>(v.tokens.size()))) {
    const std::string g = GgufName(spec.arch, name);
    if (g.empty())
      return absl::InternalError(absl::StrCat("no GGUF name for ", name));
    QEFF_RETURN_IF_ERROR(w.AddTensor(g, t));
  }
  return w.WriteFile(path);
}

}  // namespace qeff::models
