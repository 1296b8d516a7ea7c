#include "models/gguf_llama4.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

// GGUF tensor name → the HF name the llama4 builder reads (experts as
// [E, out, in] stacks, as llama.cpp stores them).
std::string Llama4HfName(const std::string& g) {
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
  absl::string_view layer, role;
  if (!SplitGgufBlockName(g, &layer, &role)) return "";
  for (const auto& [from, to] : kLayer)
    if (role == from) return absl::StrCat("model.layers.", layer, ".", to);
  return "";
}

}  // namespace

absl::Status Llama4FromGguf(const GgufFile& f, const std::string& path,
                            ModelConfig* config, WeightMap* weights) {
  Llama4Config c;
  auto key = [](absl::string_view k) { return absl::StrCat("llama4.", k); };
  auto error = [&](absl::string_view k, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", k, " ", what));
  };
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.GetInt(key("embedding_length")));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size_mlp,
                        f.GetInt(key("feed_forward_length")));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size,
                        f.GetInt(key("expert_feed_forward_length")));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.GetInt(key("block_count")));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads,
                        f.GetInt(key("attention.head_count")));
  c.num_key_value_heads = c.num_attention_heads;
  if (f.Has(key("attention.head_count_kv"))) {
    QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads,
                          f.GetInt(key("attention.head_count_kv")));
  }
  if (c.num_attention_heads <= 0)
    return error(key("attention.head_count"), "must be > 0");
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
  if (f.Has(key("rope.freq_base_swa"))) {
    QEFF_ASSIGN_OR_RETURN(float swa, f.GetF32(key("rope.freq_base_swa")));
    if (swa != c.rope_theta)
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", key("rope.freq_base_swa"), " ", swa, " differs from ",
          key("rope.freq_base"), " ", c.rope_theta, " (not supported)"));
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
        return error(key("rope.scaling.factor"), "must be > 0");
    } else if (type != "none") {
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("rope.scaling.type"), " '", type,
                       "' is not supported (supported: none, linear)"));
    }
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
    const std::string hf = Llama4HfName(t.name);
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
