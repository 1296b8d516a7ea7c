// The BERT encoder builder: the math of Hugging Face's BertModel (BGE,
// all-MiniLM, E5 and other sentence-embedding checkpoints) with no pooler:
// word + learned absolute position + token-type embeddings (token type 0
// for every token: the export takes no token_type_ids), embedding
// LayerNorm, post-LN blocks (self-attention with the key-padding mask,
// residual, LayerNorm; GELU feed-forward, residual, LayerNorm).
// I/O (DESIGN.md "Contracts": embeddings): inputs input_ids and
// attention_mask i64[batch_size, seq_len]; output `last_hidden_state`
// f32[batch_size, seq_len, hidden] (passes/pooling.h pools it).
// Weight names are HF BertModel's (`embeddings.word_embeddings.weight`,
// `encoder.layer.0.attention.self.query.weight`, ...); the loader strips a
// `bert.` prefix and drops pooler/head weights. Not done: relative
// position embeddings (position_embedding_type other than "absolute"),
// token types other than 0, the pooler.
#ifndef QEFF_MODELS_ARCH_BERT_H_
#define QEFF_MODELS_ARCH_BERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

struct BertConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  std::string hidden_act = "gelu";  // gelu (erf), gelu_new / gelu_pytorch_tanh

  int64_t HeadDim() const { return hidden_size / num_attention_heads; }
  absl::Status Validate() const;
};

// The name of an encoder's output before pooling.
inline constexpr const char* kLastHiddenState = "last_hidden_state";

absl::StatusOr<ir::Graph> BuildBertEager(const BertConfig& config,
                                         const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_BERT_H_
