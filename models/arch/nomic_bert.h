// The nomic-bert encoder builder (nomic-embed-text v1/v1.5; HF
// NomicBertModel with trust_remote_code, llama.cpp arch `nomic-bert`): word
// + token-type embeddings (type 0) and `emb_ln`, then post-LN blocks:
// fused Wqkv (no bias), rotate-half RoPE on q and k at positions
// 0..seq_len-1 (base rotary_emb_base), attention with the key-padding mask,
// out_proj, residual, norm1; SwiGLU feed-forward fc2(silu(fc12 x) * fc11 x),
// residual, norm2. Same I/O as models/arch/bert.h (output
// `last_hidden_state`). Not done: biases (qkv_proj_bias / mlp_fc*_bias, the
// MoE variant nomic-bert-moe), partial or interleaved rotary, prenorm,
// rotary_emb_scale_base — each rejected by name when parsing.
#ifndef QEFF_MODELS_ARCH_NOMIC_BERT_H_
#define QEFF_MODELS_ARCH_NOMIC_BERT_H_

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

struct NomicBertConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;          // n_embd
  int64_t num_hidden_layers = 0;    // n_layer
  int64_t num_attention_heads = 0;  // n_head
  int64_t intermediate_size = 0;    // n_inner
  int64_t max_position_embeddings = 2048;
  int64_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  float rope_theta = 1000.0f;  // rotary_emb_base

  int64_t HeadDim() const { return hidden_size / num_attention_heads; }
  absl::Status Validate() const;
};

absl::StatusOr<ir::Graph> BuildNomicBertEager(const NomicBertConfig& config,
                                              const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_NOMIC_BERT_H_
