// The Gemma 3 (text) graph builder: the math of Hugging Face's
// Gemma3ForCausalLM (and the language model of
// Gemma3ForConditionalGeneration) with no KV cache, and of llama.cpp's
// `gemma3` graph for GGUF files.
//
// What it builds: embeddings scaled by `embed_scale` (HF: sqrt(hidden_size)
// rounded to the embedding weight's dtype; llama.cpp: sqrtf(n_embd)); per
// layer RMSNorm → attention → RMSNorm (post) → residual, RMSNorm (pre-FFN) →
// GELU-tanh gated FFN → RMSNorm (post-FFN) → residual; per-head Q/K RMSNorm
// before RoPE; local (sliding-window) layers rotate with
// `rope_local_base_freq` and no scaling, global layers with `rope_theta` and
// `rope_scaling`; scores scaled by `attention_scale` (HF:
// query_pre_attn_scalar^-0.5); optional final logit soft-capping
// (tanh(x / cap) * cap). Gemma's RMSNorm multiplies by (1 + weight): HF
// checkpoints store `weight`, GGUF stores it already shifted
// (`norm_weight_offset` 1 or 0).
//
// Not supported (an error naming the field): attention logit soft-capping
// (Gemma 2's `attn_logit_softcapping`; Gemma 3 has none), activations other
// than gelu_pytorch_tanh, the vision tower (Gemma3ForConditionalGeneration
// loads its text part only).
//
// Same I/O and role names as the Llama builder (ir/lm_roles.h); a windowed
// layer keeps the full-length cache and applies the window as a mask.
#ifndef QEFF_MODELS_ARCH_GEMMA3_H_
#define QEFF_MODELS_ARCH_GEMMA3_H_

#include <vector>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/builder_util.h"
#include "models/arch/llama.h"

namespace qeff::models {

struct Gemma3Config {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 131072;
  float rms_norm_eps = 1e-6f;
  float rope_theta = 1000000.0f;          // global layers
  RopeScaling rope_scaling;               // global layers
  float rope_local_base_freq = 10000.0f;  // sliding-window layers
  // Sliding window W (0: none) and which layers use it.
  int64_t sliding_window = 0;
  std::vector<bool> sliding_layers;
  float attention_scale = 0;          // multiplies q·k; > 0
  float embed_scale = 0;              // multiplies the embeddings; > 0
  float final_logit_softcapping = 0;  // 0: none
  float norm_weight_offset = 1.0f;    // HF 1 (weight + 1), GGUF 0
  bool tie_word_embeddings = true;

  bool LayerIsSliding(int64_t layer) const {
    return sliding_window > 0 &&
           layer < static_cast<int64_t>(sliding_layers.size()) &&
           sliding_layers[layer];
  }
  absl::Status Validate() const;
};

// HF's default layer pattern: layer i slides unless (i + 1) % pattern == 0
// (pattern 6: five local layers, then one global). llama.cpp's
// set_swa_pattern(pattern) gives the same layers.
std::vector<bool> Gemma3SlidingLayersFromPattern(int64_t num_layers,
                                                 int64_t pattern);

absl::StatusOr<ir::Graph> BuildGemma3Eager(const Gemma3Config& config,
                                           const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_GEMMA3_H_
