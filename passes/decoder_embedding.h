// DecoderAsEncoder: turns an eager causal-LM graph (models/arch llama,
// mistral, qwen2, gpt2: inputs input_ids / position_ids, the final normed
// hidden state named ir::LmRoles::kFinalHidden) into the encoder form
// PoolingTransform takes: inputs input_ids and attention_mask
// i64[batch_size, seq_len], output `last_hidden_state` = the final normed
// hidden state [batch, seq_len, hidden]; no KV cache, no logits (the
// lm_head becomes dead code and is removed). Positions are 0..seq_len-1 for
// every row, so padding must be on the right (as QEFFAutoModel pads): the
// causal mask then already hides padding keys from every real token. Left
// padding is not supported (its positions would be shifted).
#ifndef QEFF_PASSES_DECODER_EMBEDDING_H_
#define QEFF_PASSES_DECODER_EMBEDDING_H_

#include <cstdint>

#include "passes/pass.h"

namespace qeff::passes {

class DecoderAsEncoder : public Pass {
 public:
  // `max_positions`: the model's max_position_embeddings (the longest
  // seq_len the positions cover).
  explicit DecoderAsEncoder(int64_t max_positions)
      : max_positions_(max_positions) {}
  absl::string_view name() const override { return "decoder_as_encoder"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  int64_t max_positions_;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_DECODER_EMBEDDING_H_
