// PoolingTransform (QEfficient's PoolingTransform): turns an encoder's
// token vectors into one sentence vector per row. The graph must have the
// input `attention_mask` i64[batch, seq_len] (1 = token, 0 = padding) and
// the output `last_hidden_state` f32[batch, seq_len, hidden]
// (models/arch/bert.h); afterwards its only output is `output`
// f32[batch, hidden] (DESIGN.md "Contracts": embeddings).
//  - mean / avg: sum of the real tokens' vectors / max(count, 1e-9)
//    (QEfficient's mean; its average_pool indexes [0] and is wrong for
//    batch > 1, so avg here is the same masked mean);
//  - cls: the first token's vector;
//  - max: element-wise max over real tokens (padding set to -1e9 first);
//  - last: the vector of the last real token (attention_mask's last 1);
//  - optional L2 normalisation: v / max(||v||, 1e-12).
// Padding never enters a pooled vector. `none` (token vectors) is not a
// pooling here: ParsePooling rejects it.
#ifndef QEFF_PASSES_POOLING_H_
#define QEFF_PASSES_POOLING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "passes/pass.h"

namespace qeff::passes {

enum class Pooling { kMean, kAvg, kCls, kMax, kLast };

struct PoolingOptions {
  Pooling pooling = Pooling::kMean;
  bool l2_normalize = false;
};

// "mean", "avg", "cls", "max", "last"; anything else (incl. "none") is
// InvalidArgument listing them.
absl::StatusOr<Pooling> ParsePooling(absl::string_view name);
absl::string_view PoolingName(Pooling p);

class PoolingTransform : public Pass {
 public:
  explicit PoolingTransform(PoolingOptions options = {}) : options_(options) {}
  absl::string_view name() const override { return "pooling"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  PoolingOptions options_;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_POOLING_H_
