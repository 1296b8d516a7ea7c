// The Grok-1 graph builder: the math of HPC-AI Tech's Hugging Face
// Grok1ModelForCausalLM (modeling_grok1.py, custom code) with no KV cache,
// and of llama.cpp's `grok` graph for GGUF files.
//
// What it builds: embeddings × `embedding_multiplier_scale`; per layer
// RMSNorm (pre_attn_norm) → attention → RMSNorm (post_attn_norm) →
// residual, RMSNorm (pre_moe_norm) → routed experts → RMSNorm
// (post_moe_norm) → residual; rotate-half RoPE (HF's RotaryEmbedding,
// llama.cpp's NEOX); attention scores q·k × `attn_output_multiplier` (no
// 1/sqrt(d)), soft-capped to `max_attn_value` * tanh(scores /
// max_attn_value) before the causal mask and softmax; a router with softmax
// scores over the experts and the `num_experts_per_tok` largest kept
// (HF: not renormalised; llama.cpp renormalises), experts
// down(act(linear u) * linear_v u) with act GELU (HF nn.GELU(): exact erf;
// llama.cpp: ggml_gelu, the tanh form); final RMSNorm, the head, logits ×
// `output_multiplier_scale`, then optional final logit soft-capping.
//
// Weight names are the HF module's: model.embed_tokens, model.layers.N.attn.
// {q,k,v,o}_proj, model.layers.N.{pre_attn,post_attn,pre_moe,post_moe}_norm.
// scale, model.layers.N.moe_block.gate, model.layers.N.moe_block.experts.E.
// {linear,linear_v,linear_1} (or stacked experts.{linear,...}.weight from
// GGUF), model.norm.scale, lm_head (absent: tied to the embeddings).
//
// Not supported: Grok-2's dense FFN beside the experts, YaRN rope scaling,
// attention temperature (the GGUF reader refuses them by name).
#ifndef QEFF_MODELS_ARCH_GROK_H_
#define QEFF_MODELS_ARCH_GROK_H_

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

struct GrokConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;  // per expert
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_attention_heads in Grok-1
  int64_t max_position_embeddings = 8192;
  float rms_norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  int64_t num_experts = 8;
  int64_t num_experts_per_tok = 2;
  float embedding_multiplier_scale = 1.0f;
  float output_multiplier_scale = 1.0f;
  float attn_output_multiplier = 1.0f;   // multiplies q·k
  float max_attn_value = 0.0f;           // attention soft-cap; 0: none
  float final_logit_softcapping = 0.0f;  // 0: none
  bool norm_topk_prob = false;           // HF false, llama.cpp true
  int expert_activation = 1;             // 1 GELU (erf, HF), 2 GELU tanh (GGUF)
  bool tie_word_embeddings = false;

  absl::Status Validate() const;
};

absl::StatusOr<ir::Graph> BuildGrokEager(const GrokConfig& config,
                                         const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_GROK_H_
