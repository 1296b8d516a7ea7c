// The Llama-family graph builder: turns a config and HF-named weights into
// the eager graph — the same math as Hugging Face's LlamaForCausalLM,
// MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
// MixtralForCausalLM, Qwen3MoeForCausalLM and Phi3ForCausalLM, with no KV
// cache. Inputs
// `input_ids` and `position_ids` (i64[batch_size, seq_len]); output `logits`
// f32[batch_size, seq_len, vocab]. The causal mask is built from
// position_ids (a key is visible when its position <= the query's; in a
// windowed layer also > the query's position - sliding_window).
//
// Options: GQA/MQA (num_key_value_heads), tied embeddings, explicit
// head_dim, rope scaling (linear, dynamic NTK, llama3, longrope), fused
// qkv / gate_up projections (Phi-3), q/k/v(/o) biases
// (Qwen2, Llama attention_bias), MLP biases, sliding windows per layer
// (Mistral; Qwen2 use_sliding_window from max_window_layers on), per-head
// Q/K RMSNorm before RoPE (Qwen3), routed experts (Mixtral, Qwen3-MoE).
//
// Every intermediate value is named by layer and role
// (`model.layers.3.self_attn.k_rot`, ...); passes::TransformLM relies on
// the roles of ir/lm_roles.h to install the retained-state cache.
//
// Weights follow HF naming and layout: Linear weights are [out, in]; q/k
// rows in HF's rotate-half RoPE layout (readers of GGUF / llama2.c files
// un-permute them first); f16/bf16 weights are cast to f32 in the graph.
#ifndef QEFF_MODELS_ARCH_LLAMA_H_
#define QEFF_MODELS_ARCH_LLAMA_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "ir/lm_roles.h"
#include "ir/tensor.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

// HF `rope_scaling` (transformers' ROPE_INIT_FUNCTIONS).
struct RopeScaling {
  enum class Type { kNone, kLinear, kDynamic, kLlama3, kLongRope };
  Type type = Type::kNone;
  float factor = 1.0f;
  // llama3 only.
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  int64_t original_max_position_embeddings = 0;  // llama3, longrope
  // longrope (Phi-3 "longrope" / "su"): per-frequency divisors [head_dim/2];
  // the long ones when a forward's max(position_ids) + 1 exceeds
  // original_max_position_embeddings, else the short ones; cos and sin are
  // scaled by attention_factor.
  std::vector<float> long_factor, short_factor;
  float attention_factor = 1.0f;
};

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
  RopeScaling rope_scaling;
  bool qkv_bias = false;  // q/k/v_proj biases (Qwen2; Llama attention_bias)
  bool o_bias = false;    // o_proj bias (Llama attention_bias)
  bool mlp_bias = false;  // gate/up/down biases (Llama mlp_bias)
  // Per-head RMSNorm of q and k over head_dim before RoPE (Qwen3:
  // self_attn.q_norm.weight / k_norm.weight [head_dim]).
  bool qk_norm = false;
  // Phi-3: one fused self_attn.qkv_proj.weight [(nh + 2 nkv) d, H] and one
  // mlp.gate_up_proj.weight [2 F, H] (gate rows first).
  bool fused_qkv = false;
  bool fused_gate_up = false;
  // Mixture of experts (Mixtral, Qwen3-MoE): 0 experts = dense MLPs. A MoE
  // layer replaces the MLP by a router and `num_experts` SwiGLU experts of
  // `moe_intermediate_size` (0: intermediate_size), `num_experts_per_tok`
  // of them per token (models/arch/moe.h); `moe_layers` says which layers
  // (empty: all). Weight names: `moe_style` "mixtral" (block_sparse_moe.gate,
  // experts.E.w1/w3/w2) or "qwen" (mlp.gate, experts.E.gate_proj/...).
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  bool norm_topk_prob = false;
  std::vector<bool> moe_layers;
  std::string moe_style = "mixtral";
  // Sliding-window attention: 0 = none. `windowed_layers` says which layers
  // use it (empty: all of them).
  int64_t sliding_window = 0;
  std::vector<bool> windowed_layers;

  int64_t HeadDim() const {
    return head_dim ? head_dim : hidden_size / num_attention_heads;
  }
  bool LayerIsMoE(int64_t layer) const {
    if (num_experts <= 0) return false;
    return moe_layers.empty() ||
           (layer < static_cast<int64_t>(moe_layers.size()) &&
            moe_layers[layer]);
  }
  bool LayerIsWindowed(int64_t layer) const {
    if (sliding_window <= 0) return false;
    return windowed_layers.empty() ||
           (layer < static_cast<int64_t>(windowed_layers.size()) &&
            windowed_layers[layer]);
  }
  absl::Status Validate() const;
};

// The rotary inverse frequencies [head_dim / 2] after static rope scaling
// (none, linear, llama3), in f32 as transformers computes them. Dynamic NTK
// scaling is applied in the graph (it depends on the sequence length).
std::vector<float> RopeInverseFrequencies(const LlamaConfig& config);
// The same for any head dim, base and scaling (Gemma 3's local and global
// rotary embeddings).
std::vector<float> RopeInverseFrequencies(int64_t head_dim, float theta,
                                          const RopeScaling& scaling);

absl::StatusOr<ir::Graph> BuildLlamaEager(const LlamaConfig& config,
                                          const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_LLAMA_H_
