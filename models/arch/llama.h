// The Llama-family graph builder: turns a config and HF-named weights into
// the eager graph — the same math as Hugging Face's LlamaForCausalLM, with no
// KV cache. Inputs `input_ids` and `position_ids` (i64[batch_size, seq_len]);
// output `logits` f32[batch_size, seq_len, vocab]. The causal mask is built
// from position_ids (a key is visible when its position <= the query's).
//
// Every intermediate value is named by layer and role
// (`model.layers.3.self_attn.k_rot`, ...). passes::TransformLM relies on
// these roles (see LlamaRoles below) to install the retained-state cache.
//
// Weights follow HF naming and layout: Linear weights are [out, in]; q/k
// rows in HF's rotate-half RoPE layout (readers of GGUF / llama2.c files
// un-permute them first). Not yet supported (rejected with an error): rope
// scaling, sliding windows, attention/MLP biases.
#ifndef QEFF_MODELS_ARCH_LLAMA_H_
#define QEFF_MODELS_ARCH_LLAMA_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace qeff::models {

struct LlamaConfig {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // 0: hidden_size / num_attention_heads
  int64_t vocab_size = 0;
  float rms_norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  bool tie_word_embeddings = false;
  int64_t max_position_embeddings = 2048;

  int64_t HeadDim() const {
    return head_dim ? head_dim : hidden_size / num_attention_heads;
  }
  absl::Status Validate() const;
};

using WeightMap = absl::flat_hash_map<std::string, ir::Tensor>;

// Value names of the roles TransformLM rewrites.
struct LlamaRoles {
  static std::string KeyRot(int layer);  // k after RoPE [B, n_kv, S, D]
  static std::string Value(int layer);   // v [B, n_kv, S, D]
  static constexpr const char* kCausalMask = "model.causal_mask";  // bool [B,1,S,S], true = masked
  static constexpr const char* kFinalHidden = "model.norm_out";   // [B, S, H]
  static constexpr const char* kLogits = "logits";
};

// The large finite score given to masked attention slots (never -inf).
inline constexpr float kMaskedScore = -10000.0f;

absl::StatusOr<ir::Graph> BuildLlamaEager(const LlamaConfig& config,
                                          const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_LLAMA_H_
