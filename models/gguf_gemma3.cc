#include "models/gguf_gemma3.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/gguf_decoder.h"

namespace qeff::models {
namespace {

// GGUF block roles → HF names for gemma3 (llama.cpp's tensor map: ffn_norm
// is the pre-FFN norm here, post_attention_norm / post_ffw_norm the post
// norms).
constexpr GgufRoleName kGemma3Roles[] = {
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

}  // namespace

absl::Status Gemma3FromGguf(const GgufFile& f, const std::string& path,
                            ModelConfig* config, WeightMap* weights) {
  Gemma3Config c;
  auto key = [](absl::string_view k) { return absl::StrCat("gemma3.", k); };
  QEFF_ASSIGN_OR_RETURN(GgufDecoderHparams h,
                        ReadGgufDecoderHparams(f, path, "gemma3"));
  c.hidden_size = h.hidden_size;
  c.intermediate_size = h.feed_forward_length;
  c.num_hidden_layers = h.block_count;
  c.num_attention_heads = h.head_count;
  c.num_key_value_heads = h.head_count_kv;
  c.head_dim = h.head_dim;
  c.rms_norm_eps = h.rms_norm_eps;
  c.rope_theta = h.rope_theta;
  c.rope_scaling = h.rope_scaling;
  if (h.context_length > 0) c.max_position_embeddings = h.context_length;
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
    const std::string hf = GgufDecoderHfName(t.name, kGemma3Roles);
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
