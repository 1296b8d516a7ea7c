#include "models/gguf_gemma3.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

// GGUF tensor name → HF name for gemma3 (llama.cpp's tensor map: ffn_norm is
// the pre-FFN norm here, post_attention_norm / post_ffw_norm the post norms).
std::string Gemma3HfName(const std::string& g) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"},
  };
  for (const auto& [from, to] : kTop)
    if (g == from) return to;
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"post_attention_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_norm.weight", "pre_feedforward_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
      {"post_ffw_norm.weight", "post_feedforward_layernorm.weight"},
  };
  absl::string_view layer, role;
  if (!SplitGgufBlockName(g, &layer, &role)) return "";
  for (const auto& [from, to] : kLayer)
    if (role == from) return absl::StrCat("model.layers.", layer, ".", to);
  return "";
}

}  // namespace

absl::Status Gemma3FromGguf(const GgufFile& f, const std::string& path,
                            ModelConfig* config, WeightMap* weights) {
  Gemma3Config c;
  auto key = [](absl::string_view k) { return absl::StrCat("gemma3.", k); };
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.GetInt(key("embedding_length")));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size,
                        f.GetInt(key("feed_forward_length")));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.GetInt(key("block_count")));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads,
                        f.GetInt(key("attention.head_count")));
  c.num_key_value_heads = c.num_attention_heads;
  if (f.Has(key("attention.head_count_kv"))) {
    QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads,
                          f.GetInt(key("attention.head_count_kv")));
  }
  if (c.num_attention_heads <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", key("attention.head_count"), " must be > 0"));
  }
  c.head_dim = c.hidden_size / c.num_attention_heads;
  if (f.Has(key("attention.key_length"))) {
    QEFF_ASSIGN_OR_RETURN(c.head_dim, f.GetInt(key("attention.key_length")));
  }
  if (f.Has(key("attention.value_length"))) {
    QEFF_ASSIGN_OR_RETURN(int64_t v, f.GetInt(key("attention.value_length")));
    if (v != c.head_dim)
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("attention.value_length"), " ", v,
                       " differs from the key length ", c.head_dim));
  }
  if (f.Has(key("rope.dimension_count"))) {
    QEFF_ASSIGN_OR_RETURN(int64_t rot, f.GetInt(key("rope.dimension_count")));
    if (rot != c.head_dim)
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", key("rope.dimension_count"), " ", rot,
          " differs from the head dim (partial rotary is not supported)"));
  }
  QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps,
                        f.GetF32(key("attention.layer_norm_rms_epsilon")));
  c.rope_theta = 10000.0f;  // llama.cpp's default freq_base
  if (f.Has(key("rope.freq_base"))) {
    QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.GetF32(key("rope.freq_base")));
  }
  if (f.Has(key("context_length"))) {
    QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                          f.GetInt(key("context_length")));
  }
  if (f.Has(key("rope.scaling.type"))) {
    QEFF_ASSIGN_OR_RETURN(std::string type,
                          f.GetString(key("rope.scaling.type")));
    if (type == "linear") {
      c.rope_scaling.type = RopeScaling::Type::kLinear;
      QEFF_ASSIGN_OR_RETURN(c.rope_scaling.factor,
                            f.GetF32(key("rope.scaling.factor")));
      if (!(c.rope_scaling.factor > 0))
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": ", key("rope.scaling.factor"), " must be > 0"));
    } else if (type != "none") {
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("rope.scaling.type"), " '", type,
                       "' is not supported (supported: none, linear)"));
    }
  }
  if (f.Has(key("attention.sliding_window"))) {
    QEFF_ASSIGN_OR_RETURN(c.sliding_window,
                          f.GetInt(key("attention.sliding_window")));
  }
  if (c.sliding_window > 0) {
    int64_t pattern = 6;
    const std::string pk = key("attention.sliding_window_pattern");
    if (f.Has(pk) && f.GetInt(pk).ok()) {
      QEFF_ASSIGN_OR_RETURN(pattern, f.GetInt(pk));
    }
    c.sliding_layers =
        Gemma3SlidingLayersFromPattern(c.num_hidden_layers, pattern);
    c.rope_local_base_freq = 10000.0f;
    if (f.Has(key("rope.freq_base_swa"))) {
      QEFF_ASSIGN_OR_RETURN(c.rope_local_base_freq,
                            f.GetF32(key("rope.freq_base_swa")));
    }
  } else {
    c.sliding_window = 0;
  }
  if (f.Has(key("final_logit_softcapping"))) {
    QEFF_ASSIGN_OR_RETURN(c.final_logit_softcapping,
                          f.GetF32(key("final_logit_softcapping")));
  }
  c.attention_scale = c.num_hidden_layers == 62
                          ? 1.0f / std::sqrt(static_cast<float>(
                                       c.hidden_size / c.num_attention_heads))
                          : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  c.embed_scale = std::sqrt(static_cast<float>(c.hidden_size));
  c.norm_weight_offset = 0.0f;

  for (const GgufTensorInfo& t : f.tensors()) {
    const std::string hf = Gemma3HfName(t.name);
    if (hf.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unexpected tensor '", t.name, "' for gemma3"));
    }
    (*weights)[hf] = t.tensor;
  }
  auto embed = weights->find("model.embed_tokens.weight");
  if (embed == weights->end())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no tensor 'token_embd.weight'"));
  c.vocab_size = embed->second.dims()[0];
  c.tie_word_embeddings = !weights->contains("lm_head.weight");
  auto st = c.Validate();
  if (!st.ok())
    return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  *config = FromGemma3Config(c);
  return absl::OkStatus();
}

}  // namespace qeff::models
