#include "models/gguf_grok.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

// GGUF tensor name → HF name (llama.cpp's grok tensors: attn_output_norm is
// the post-attention norm, ffn_norm the pre-MoE norm, layer_output_norm or
// post_ffw_norm the post-MoE norm; experts stacked as ffn_*_exps).
std::string GrokHfName(const std::string& g) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.scale"},
      {"output.weight", "lm_head.weight"},
  };
  for (const auto& [from, to] : kTop)
    if (g == from) return to;
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm.weight", "pre_attn_norm.scale"},
      {"attn_q.weight", "attn.q_proj.weight"},
      {"attn_k.weight", "attn.k_proj.weight"},
      {"attn_v.weight", "attn.v_proj.weight"},
      {"attn_qkv.weight", "attn.qkv_proj.weight"},  // create_tensor_qkv
      {"attn_output.weight", "attn.o_proj.weight"},
      {"attn_output_norm.weight", "post_attn_norm.scale"},
      {"ffn_norm.weight", "pre_moe_norm.scale"},
      {"ffn_gate_inp.weight", "moe_block.gate.weight"},
      {"ffn_gate_exps.weight", "moe_block.experts.linear.weight"},
      {"ffn_up_exps.weight", "moe_block.experts.linear_v.weight"},
      {"ffn_down_exps.weight", "moe_block.experts.linear_1.weight"},
      {"layer_output_norm.weight", "post_moe_norm.scale"},
      {"post_ffw_norm.weight", "post_moe_norm.scale"},
  };
  absl::string_view layer, role;
  if (!SplitGgufBlockName(g, &layer, &role)) return "";
  for (const auto& [from, to] : kLayer)
    if (role == from) return absl::StrCat("model.layers.", layer, ".", to);
  return "";
}

}  // namespace

absl::Status GrokFromGguf(const GgufFile& f, const std::string& path,
                          ModelConfig* config, WeightMap* weights) {
  GrokConfig c;
  auto key = [](absl::string_view k) { return absl::StrCat("grok.", k); };
  auto opt_f32 = [&](absl::string_view k, float* v) -> absl::Status {
    if (!f.Has(key(k))) return absl::OkStatus();
    QEFF_ASSIGN_OR_RETURN(*v, f.GetF32(key(k)));
    return absl::OkStatus();
  };
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.GetInt(key("embedding_length")));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size,
                        f.GetInt(key("feed_forward_length")));
  if (f.Has(key("expert_feed_forward_length"))) {
    QEFF_ASSIGN_OR_RETURN(c.intermediate_size,
                          f.GetInt(key("expert_feed_forward_length")));
  }
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
  for (const char* k : {"attention.key_length", "attention.value_length",
                        "rope.dimension_count"}) {
    if (!f.Has(key(k))) continue;
    QEFF_ASSIGN_OR_RETURN(int64_t v, f.GetInt(key(k)));
    if (v != c.head_dim)
      return absl::UnimplementedError(absl::StrCat(path, ": ", key(k), " ", v,
                                                   " differs from n_embd / ",
                                                   "n_head = ", c.head_dim,
                                                   " (llama.cpp's grok needs "
                                                   "them equal)"));
  }
  QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps,
                        f.GetF32(key("attention.layer_norm_rms_epsilon")));
  c.rope_theta = 10000.0f;
  QEFF_RETURN_IF_ERROR(opt_f32("rope.freq_base", &c.rope_theta));
  if (f.Has(key("context_length"))) {
    QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                          f.GetInt(key("context_length")));
  }
  if (f.Has(key("rope.scaling.type"))) {
    QEFF_ASSIGN_OR_RETURN(std::string type,
                          f.GetString(key("rope.scaling.type")));
    if (type != "none")
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("rope.scaling.type"), " '", type,
                       "' is not supported for grok (supported: none)"));
  }
  QEFF_ASSIGN_OR_RETURN(c.num_experts, f.GetInt(key("expert_count")));
  QEFF_ASSIGN_OR_RETURN(c.num_experts_per_tok,
                        f.GetInt(key("expert_used_count")));
  // llama.cpp's defaults for GGUFs without the keys (Grok-1's values).
  c.embedding_multiplier_scale = 78.38367176906169f;
  c.attn_output_multiplier = 0.08838834764831845f;
  c.max_attn_value = 30.0f;
  c.output_multiplier_scale = 0.5773502691896257f;
  c.final_logit_softcapping = 0.0f;
  QEFF_RETURN_IF_ERROR(
      opt_f32("embedding_scale", &c.embedding_multiplier_scale));
  QEFF_RETURN_IF_ERROR(
      opt_f32("attention.output_scale", &c.attn_output_multiplier));
  QEFF_RETURN_IF_ERROR(opt_f32("attn_logit_softcapping", &c.max_attn_value));
  QEFF_RETURN_IF_ERROR(opt_f32("logit_scale", &c.output_multiplier_scale));
  QEFF_RETURN_IF_ERROR(
      opt_f32("final_logit_softcapping", &c.final_logit_softcapping));
  if (!(c.max_attn_value > 0)) {
    // llama.cpp divides by it (tanh(kq * scale / cap) * cap).
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", key("attn_logit_softcapping"), " must be > 0"));
  }
  c.norm_topk_prob = true;  // build_moe_ffn(..., norm_w = true, ...)
  c.expert_activation = 2;  // LLM_FFN_GELU: ggml_gelu, the tanh form

  for (const GgufTensorInfo& t : f.tensors()) {
    absl::string_view layer, role;
    if (SplitGgufBlockName(t.name, &layer, &role) &&
        (role == "ffn_up.weight" || role == "ffn_gate.weight" ||
         role == "ffn_down.weight")) {
      return absl::UnimplementedError(absl::StrCat(
          path, ": tensor '", t.name,
          "' is a dense FFN beside the experts (Grok-2); only Grok-1 is "
          "supported"));
    }
    const std::string hf = GrokHfName(t.name);
    if (hf.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unexpected tensor '", t.name, "' for grok"));
    }
    if (weights->contains(hf)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": tensor '", t.name, "' duplicates another tensor's role"));
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
  *config = FromGrokConfig(c);
  return absl::OkStatus();
}

}  // namespace qeff::models
