// The Llama 4 (text) graph builder: the math of Hugging Face's
// Llama4ForCausalLM (and the language model of
// Llama4ForConditionalGeneration) with no KV cache, and of llama.cpp's
// `llama4` graph for GGUF files.
//
// What it builds, per layer: RMSNorm → attention → residual, RMSNorm → FFN
// → residual. Attention: RoPE layers (`rope_layers`) rotate q and k (HF's
// complex form: pairs (2i, 2i+1) of each head, llama3 rope scaling or GGUF
// rope_freqs factors), then, with `use_qk_norm`, normalise each head of q and
// k by its RMS (no weight, eps rms_norm_eps: Llama4TextL2Norm); NoPE layers
// skip both and, with `attn_temperature_tuning`, scale q by
// log(floor((p + 1) / floor_scale) + 1) * attn_scale + 1 for position p.
// Chunked layers (`chunked_layers`, when attention_chunk_size > 0) mask key
// j for a query at p when j > p or j < floor(p / C) * C; the others are
// causal. FFN: MoE layers (`moe_layers`) add a shared SwiGLU expert
// (intermediate_size) to the routed experts — top-k router logits, sigmoid
// scores multiplying each expert's input (the MoE custom op with scoring 1,
// score_on_input 1); dense layers are SwiGLU MLPs of intermediate_size_mlp.
//
// Weights come in HF names (`model.layers.N.feed_forward.*`) and HF layout:
// q/k rows interleaved (as HF and GGUF store them; permuted here to the
// rotate-half rows one copy, since q·k is unchanged by the same permutation
// of both), experts either fused as HF stores them
// (`experts.gate_up_proj` [E, H, 2F], `experts.down_proj` [E, F, H]; split
// and transposed here, one copy) or as stacks [E, out, in]
// (`experts.{gate,up,down}_proj.weight`, as GGUF's ffn_*_exps load).
//
// Not supported (an error naming the field): attention biases, activations
// other than silu, the vision model. Same I/O and role names as the Llama
// builder (ir/lm_roles.h); a chunked layer keeps the full-length cache and
// applies the chunk as a mask.
#ifndef QEFF_MODELS_ARCH_LLAMA4_H_
#define QEFF_MODELS_ARCH_LLAMA4_H_

#include <vector>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/builder_util.h"
#include "models/arch/llama.h"

namespace qeff::models {

struct Llama4Config {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;      // each routed and the shared expert
  int64_t intermediate_size_mlp = 0;  // dense layers
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 131072;
  float rms_norm_eps = 1e-5f;
  float rope_theta = 500000.0f;
  RopeScaling rope_scaling;
  // GGUF `rope_freqs.weight` (llama.cpp's llama3 scaling): inverse frequency
  // i is divided by factor i. Empty: none (HF uses rope_scaling instead).
  std::vector<float> rope_freq_factors;
  int64_t attention_chunk_size = 0;  // 0: chunked layers are causal
  std::vector<bool> rope_layers;     // HF no_rope_layers (1 = uses RoPE)
  std::vector<bool> chunked_layers;  // HF layer_types "chunked_attention"
  std::vector<bool> moe_layers;
  bool use_qk_norm = true;
  bool attn_temperature_tuning = true;
  int64_t floor_scale = 8192;
  float attn_scale = 0.1f;
  float attention_scale = 0;  // multiplies q·k; 0: head_dim^-0.5
  int64_t num_local_experts = 0;
  int64_t num_experts_per_tok = 0;
  bool tie_word_embeddings = false;

  bool LayerUsesRope(int64_t i) const { return rope_layers[i]; }
  bool LayerIsChunked(int64_t i) const {
    return attention_chunk_size > 0 && chunked_layers[i];
  }
  bool LayerIsMoE(int64_t i) const { return moe_layers[i]; }
  absl::Status Validate() const;
};

// HF's defaults: layer i uses RoPE unless (i + 1) % interval == 0 (llama.cpp
// fixes the interval at 4); MoE layers step-1, 2*step-1, ...
std::vector<bool> Llama4RopeLayersFromInterval(int64_t num_layers,
                                               int64_t interval);
std::vector<bool> Llama4MoELayersFromStep(int64_t num_layers, int64_t step);

absl::StatusOr<ir::Graph> BuildLlama4Eager(const Llama4Config& config,
                                           const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_LLAMA4_H_
