#include "models/bert_gguf.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {

namespace {

// The hyper-parameters every BERT-family GGUF has under `<arch>.`.
struct EncoderKeys {
  int64_t hidden = 0, ff = 0, layers = 0, heads = 0, ctx = 0;
  float eps = 0;
};

absl::StatusOr<EncoderKeys> ReadEncoderKeys(const GgufFile& f,
                                            const std::string& arch,
                                            const std::string& path) {
  auto key = [&](absl::string_view k) { return absl::StrCat(arch, ".", k); };
  EncoderKeys e;
  QEFF_ASSIGN_OR_RETURN(e.hidden, f.GetInt(key("embedding_length")));
  QEFF_ASSIGN_OR_RETURN(e.ff, f.GetInt(key("feed_forward_length")));
  QEFF_ASSIGN_OR_RETURN(e.layers, f.GetInt(key("block_count")));
  QEFF_ASSIGN_OR_RETURN(e.heads, f.GetInt(key("attention.head_count")));
  QEFF_ASSIGN_OR_RETURN(e.ctx, f.GetInt(key("context_length")));
  QEFF_ASSIGN_OR_RETURN(e.eps, f.GetF32(key("attention.layer_norm_epsilon")));
  if (f.Has(key("attention.causal"))) {
    QEFF_ASSIGN_OR_RETURN(bool causal, f.GetBool(key("attention.causal")));
    if (causal)
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", key("attention.causal"), " = true is not supported"));
  }
  return e;
}

// dims()[0] of a 2-D weight, or an error naming it.
absl::StatusOr<int64_t> Rows(const WeightMap& w, const char* name,
                             const std::string& path) {
  auto it = w.find(name);
  if (it == w.end() || it->second.dims().size() != 2)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no 2-D tensor for '", name, "'"));
  return it->second.dims()[0];
}

}  // namespace

std::string BertGgufToHfName(absl::string_view g) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"token_embd.weight", "embeddings.word_embeddings.weight"},
      {"token_types.weight", "embeddings.token_type_embeddings.weight"},
      {"position_embd.weight", "embeddings.position_embeddings.weight"},
      {"token_embd_norm.weight", "embeddings.LayerNorm.weight"},
      {"token_embd_norm.bias", "embeddings.LayerNorm.bias"},
  };
  for (const auto& [gg, h] : kTop)
    if (g == gg) return h;
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_q", "attention.self.query"},
      {"attn_k", "attention.self.key"},
      {"attn_v", "attention.self.value"},
      {"attn_output", "attention.output.dense"},
      {"attn_output_norm", "attention.output.LayerNorm"},
      {"ffn_up", "intermediate.dense"},
      {"ffn_down", "output.dense"},
      {"layer_output_norm", "output.LayerNorm"},
  };
  absl::string_view layer, role;
  if (!SplitGgufBlockName(g, &layer, &role)) return "";
  for (const char* suffix : {".weight", ".bias"}) {
    if (!absl::EndsWith(role, suffix)) continue;
    absl::string_view base = role.substr(0, role.size() - strlen(suffix));
    for (const auto& [gg, h] : kLayer)
      if (base == gg)
        return absl::StrCat("encoder.layer.", layer, ".", h, suffix);
  }
  return "";
}

absl::Status BertFromGguf(const GgufFile& f, const std::string& path,
                          ModelConfig* m, WeightMap* weights) {
  BertConfig c;
  QEFF_ASSIGN_OR_RETURN(EncoderKeys e, ReadEncoderKeys(f, "bert", path));
  c.hidden_size = e.hidden;
  c.intermediate_size = e.ff;
  c.num_hidden_layers = e.layers;
  c.num_attention_heads = e.heads;
  c.max_position_embeddings = e.ctx;
  c.layer_norm_eps = e.eps;
  c.hidden_act = "gelu_new";  // llama.cpp's ggml_gelu (see the header)
  for (const GgufTensorInfo& t : f.tensors()) {
    const std::string hf = BertGgufToHfName(t.name);
    if (hf.empty())
      return absl::UnimplementedError(absl::StrCat(
          path, ": tensor '", t.name, "' is not supported for bert",
          absl::StartsWith(t.name, "cls") ? " (a classification head)" : ""));
    (*weights)[hf] = t.tensor;
  }
  QEFF_ASSIGN_OR_RETURN(
      c.vocab_size, Rows(*weights, "embeddings.word_embeddings.weight", path));
  QEFF_ASSIGN_OR_RETURN(
      c.type_vocab_size,
      Rows(*weights, "embeddings.token_type_embeddings.weight", path));
  auto st = c.Validate();
  if (!st.ok())
    return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  m->family = ModelFamily::kBert;
  m->model_type = "bert";
  m->architecture = "BertModel";
  m->bert = c;
  FillCommon(m);
  return absl::OkStatus();
}

std::string NomicBertGgufToHfName(absl::string_view g) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"token_embd.weight", "embeddings.word_embeddings.weight"},
      {"token_types.weight", "embeddings.token_type_embeddings.weight"},
      {"token_embd_norm.weight", "emb_ln.weight"},
      {"token_embd_norm.bias", "emb_ln.bias"},
  };
  for (const auto& [gg, h] : kTop)
    if (g == gg) return h;
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_qkv.weight", "attn.Wqkv.weight"},
      {"attn_output.weight", "attn.out_proj.weight"},
      {"attn_output_norm.weight", "norm1.weight"},
      {"attn_output_norm.bias", "norm1.bias"},
      {"ffn_up.weight", "mlp.fc11.weight"},
      {"ffn_gate.weight", "mlp.fc12.weight"},
      {"ffn_down.weight", "mlp.fc2.weight"},
      {"layer_output_norm.weight", "norm2.weight"},
      {"layer_output_norm.bias", "norm2.bias"},
  };
  absl::string_view layer, role;
  if (!SplitGgufBlockName(g, &layer, &role)) return "";
  for (const auto& [gg, h] : kLayer)
    if (role == gg) return absl::StrCat("encoder.layers.", layer, ".", h);
  return "";
}

absl::Status NomicBertFromGguf(const GgufFile& f, const std::string& path,
                               ModelConfig* m, WeightMap* weights) {
  NomicBertConfig c;
  auto key = [](absl::string_view k) { return absl::StrCat("nomic-bert.", k); };
  QEFF_ASSIGN_OR_RETURN(EncoderKeys e, ReadEncoderKeys(f, "nomic-bert", path));
  c.hidden_size = e.hidden;
  c.intermediate_size = e.ff;
  c.num_hidden_layers = e.layers;
  c.num_attention_heads = e.heads;
  c.max_position_embeddings = e.ctx;
  c.layer_norm_eps = e.eps;
  c.rope_theta = 10000.0f;  // llama.cpp's default
  if (f.Has(key("rope.freq_base"))) {
    QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.GetF32(key("rope.freq_base")));
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    const std::string hf = NomicBertGgufToHfName(t.name);
    if (hf.empty())
      return absl::UnimplementedError(
          absl::StrCat(path, ": tensor '", t.name,
                       "' is not supported for nomic-bert (separate "
                       "attn_q/k/v, biases and MoE tensors are not)"));
    (*weights)[hf] = t.tensor;
  }
  QEFF_ASSIGN_OR_RETURN(
      c.vocab_size, Rows(*weights, "embeddings.word_embeddings.weight", path));
  QEFF_ASSIGN_OR_RETURN(
      c.type_vocab_size,
      Rows(*weights, "embeddings.token_type_embeddings.weight", path));
  auto st = c.Validate();
  if (!st.ok())
    return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  m->family = ModelFamily::kNomicBert;
  m->model_type = "nomic_bert";
  m->architecture = "NomicBertModel";
  m->nomic_bert = c;
  FillCommon(m);
  return absl::OkStatus();
}

}  // namespace qeff::models
