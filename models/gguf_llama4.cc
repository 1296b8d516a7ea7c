#include "models/gguf_llama4.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/gguf_decoder.h"

namespace qeff::models {
namespace {

// GGUF block roles → the HF names the llama4 builder reads (experts as
// [E, out, in] stacks, as llama.cpp stores them).
constexpr GgufRoleName kLlama4Roles[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "feed_forward.gate_proj.weight"},
    {"ffn_up.weight", "feed_forward.up_proj.weight"},
    {"ffn_down.weight", "feed_forward.down_proj.weight"},
    {"ffn_gate_inp.weight", "feed_forward.router.weight"},
    {"ffn_gate_exps.weight", "feed_forward.experts.gate_proj.weight"},
    {"ffn_up_exps.weight", "feed_forward.experts.up_proj.weight"},
    {"ffn_down_exps.weight", "feed_forward.experts.down_proj.weight"},
    {"ffn_gate_shexp.weight", "feed_forward.shared_expert.gate_proj.weight"},
    {"ffn_up_shexp.weight", "feed_forward.shared_expert.up_proj.weight"},
    {"ffn_down_shexp.weight", "feed_forward.shared_expert.down_proj.weight"},
};

}  // namespace

absl::Status Llama4FromGguf(const GgufFile& f, const std::string& path,
                            ModelConfig* config, WeightMap* weights) {
  Llama4Config c;
  auto key = [](absl::string_view k) { return absl::StrCat("llama4.", k); };
  auto error = [&](absl::string_view k, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", k, " ", what));
  };
  QEFF_ASSIGN_OR_RETURN(GgufDecoderHparams h,
                        ReadGgufDecoderHparams(f, path, "llama4"));
  c.hidden_size = h.hidden_size;
  c.intermediate_size_mlp = h.feed_forward_length;
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size,
                        f.GetInt(key("expert_feed_forward_length")));
  c.num_hidden_layers = h.block_count;
  c.num_attention_heads = h.head_count;
  c.num_key_value_heads = h.head_count_kv;
  c.head_dim = h.head_dim;
  c.rms_norm_eps = h.rms_norm_eps;
  c.rope_theta = h.rope_theta;
  c.rope_scaling = h.rope_scaling;
  if (h.context_length > 0) c.max_position_embeddings = h.context_length;
  if (f.Has(key("rope.freq_base_swa"))) {
    QEFF_ASSIGN_OR_RETURN(float swa, f.GetF32(key("rope.freq_base_swa")));
    if (swa != c.rope_theta)
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", key("rope.freq_base_swa"), " ", swa, " differs from ",
          key("rope.freq_base"), " ", c.rope_theta, " (not supported)"));
  }
  QEFF_ASSIGN_OR_RETURN(c.num_local_experts, f.GetInt(key("expert_count")));
  if (c.num_local_experts <= 0)
    return error(key("expert_count"),
                 "must be > 0 (llama.cpp: a llama4 model cannot have zero "
                 "experts)");
  QEFF_ASSIGN_OR_RETURN(c.num_experts_per_tok,
                        f.GetInt(key("expert_used_count")));
  QEFF_ASSIGN_OR_RETURN(int64_t step,
                        f.GetInt(key("interleave_moe_layer_step")));
  c.moe_layers = Llama4MoELayersFromStep(c.num_hidden_layers, step);
  if (f.Has(key("attention.sliding_window"))) {
    QEFF_ASSIGN_OR_RETURN(int64_t w, f.GetInt(key("attention.sliding_window")));
    if (w == 0)
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", key("attention.sliding_window"),
          " = 0 (every layer full attention) is not supported: llama.cpp "
          "then makes the last layer NoPE with no temperature values set"));
  }
  // llama.cpp's fixed values (load_arch_hparams).
  c.attention_chunk_size = 8192;
  c.floor_scale = 8192;
  c.attn_scale = 0.1f;
  c.attn_temperature_tuning = true;
  int64_t period = 4;
  const std::string pk = key("attention.sliding_window_pattern");
  if (f.Has(pk) && f.GetInt(pk).ok()) {
    QEFF_ASSIGN_OR_RETURN(period, f.GetInt(pk));
  }
  c.chunked_layers.assign(c.num_hidden_layers > 0 ? c.num_hidden_layers : 0,
                          true);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    c.chunked_layers[i] = period == 0 || i % period < period - 1;
  c.rope_layers = Llama4RopeLayersFromInterval(c.num_hidden_layers, 4);
  c.use_qk_norm = c.num_local_experts != 128;
  c.attention_scale = 0;  // 1/sqrt(head_dim)

  for (const GgufTensorInfo& t : f.tensors()) {
    if (t.name == "rope_freqs.weight") {
      if (t.tensor.dtype() != ir::DType::kF32 || t.tensor.is_quantized() ||
          t.tensor.num_elements() != c.head_dim / 2)
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": tensor 'rope_freqs.weight' must be f32 [",
                         c.head_dim / 2, "], got ", t.tensor.TypeString()));
      const float* p = t.tensor.data<float>();
      c.rope_freq_factors.assign(p, p + t.tensor.num_elements());
      for (float x : c.rope_freq_factors)
        if (!(x > 0))
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": tensor 'rope_freqs.weight' holds a factor <= 0"));
      continue;
    }
    const std::string hf = GgufDecoderHfName(t.name, kLlama4Roles);
    if (hf.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unexpected tensor '", t.name, "' for llama4"));
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
  *config = FromLlama4Config(c);
  return absl::OkStatus();
}

}  // namespace qeff::models
