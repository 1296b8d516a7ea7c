// The GPT-2 graph builder: the math of Hugging Face's GPT2LMHeadModel with
// no cache — learned absolute positions (wpe gathered at position_ids),
// pre-LayerNorm blocks, fused Conv1D `c_attn` (weight [in, 3*out], split
// into q, k, v), GELU (tanh approximation "gelu_new" / "gelu_pytorch_tanh",
// or exact "gelu"), tied lm_head. Same I/O as the Llama builder and the same
// role names (ir/lm_roles.h): GPT-2 has no RoPE, so
// `model.layers.{i}.self_attn.k_rot` is the plain keys [B, H, S, D].
// Weight names are HF's without the `transformer.` prefix (`wte.weight`,
// `h.0.attn.c_attn.weight`, ...), the loader strips it. A `lm_head.weight`
// in the map (a GGUF `output.weight`) is used as an untied head.
#ifndef QEFF_MODELS_ARCH_GPT2_H_
#define QEFF_MODELS_ARCH_GPT2_H_

#include <string>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

struct Gpt2Config {
  int64_t vocab_size = 0;
  int64_t n_positions = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_inner = 0;  // 0: 4 * n_embd
  float layer_norm_epsilon = 1e-5f;
  std::string activation_function = "gelu_new";
  bool scale_attn_weights = true;
  // Projection weights stored as Linear [out, in] (GGUF files, whose
  // converter transposes HF's Conv1D [in, out]); quantized GGUF blocks stay
  // as they are.
  bool linear_weights = false;

  int64_t Inner() const { return n_inner ? n_inner : 4 * n_embd; }
  int64_t HeadDim() const { return n_embd / n_head; }
  absl::Status Validate() const;
};

absl::StatusOr<ir::Graph> BuildGpt2Eager(const Gpt2Config& config,
                                         const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_GPT2_H_
