// TransformLM: rewrites an eager causal-LM graph (models/arch builders) into
// qeff's deployable form (DESIGN.md "Contracts kept from QEfficient"):
//  - per layer, inputs `past_key.{i}` / `past_value.{i}`
//    f32[batch_size, n_kv_heads, ctx_len, head_dim] and outputs
//    `past_key.{i}_RetainedState` / `past_value.{i}_RetainedState`; the new
//    keys/values are written with CtxScatter at position_ids and attention
//    reads all ctx_len slots with CtxGather;
//  - the causal mask becomes [batch, 1, seq_len, ctx_len]: slot j is masked
//    for a query at position p when j > p (padding, p = -1, masks all);
//  - logits are taken at the last valid position of each row
//    (argmax(position_ids)), so the output is [batch, 1, vocab].
// With `continuous_batching`, a `batch_index` i64[batch_size, 1] input picks
// the cache row (CtxScatterCB/CtxGatherCB) and the cache batch is the symbol
// `full_batch_size`.
//
// It finds the sites by the role names the builders give values
// (ir/lm_roles.h LmRoles). Not done here yet: CustomRMSNorm,
// sliding-window masks.
#ifndef QEFF_PASSES_TRANSFORM_LM_H_
#define QEFF_PASSES_TRANSFORM_LM_H_

#include "passes/pass.h"

namespace qeff::passes {

struct TransformLMOptions {
  bool continuous_batching = false;
  // Keep logits at every position ([batch, seq_len, vocab]) instead of the
  // last valid one ([batch, 1, vocab]): for scoring text (perplexity,
  // teacher-forced quality), as QEfficient's num_logits_to_keep keeps
  // several positions. DESIGN.md "Contracts".
  bool all_logits = false;
  // Every field: two options that compare equal give the same graph (the
  // farm groups jobs into one export by it).
  bool operator==(const TransformLMOptions& o) const {
    return continuous_batching == o.continuous_batching &&
           all_logits == o.all_logits;
  }
  bool operator!=(const TransformLMOptions& o) const { return !(*this == o); }
};

class TransformLM : public Pass {
 public:
  explicit TransformLM(TransformLMOptions options = {}) : options_(options) {}
  absl::string_view name() const override { return "transform_lm"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  TransformLMOptions options_;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_TRANSFORM_LM_H_
