// ConstantFolding: evaluates nodes whose inputs are all constants (with the
// reference evaluator's kernels) and replaces their outputs by constants;
// also folds Shape of a value whose shape is static. Custom ops and ops
// whose output would be more than `max_growth` times their inputs' bytes
// (Expand, ConstantOfShape, Range blow-ups; default 4x, and never over
// 64 MiB) are left alone. Quantized constants fold to f32 (the evaluator
// dequantizes them), which is what export wants.
#ifndef QEFF_PASSES_CONSTANT_FOLD_H_
#define QEFF_PASSES_CONSTANT_FOLD_H_

#include <cstddef>
#include <cstdint>

#include "passes/pass.h"

namespace qeff::passes {

struct ConstantFoldingOptions {
  double max_growth = 4.0;
  size_t max_bytes = size_t{64} << 20;
  // Nodes whose constant inputs hold more bytes than this are left alone
  // (export: a weight's Cast / Transpose stays a node over the stored
  // weight, so export never holds a converted copy of the weights).
  size_t max_input_bytes = SIZE_MAX;
};

class ConstantFolding : public Pass {
 public:
  explicit ConstantFolding(ConstantFoldingOptions o = {}) : o_(o) {}
  absl::string_view name() const override { return "constant_fold"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  ConstantFoldingOptions o_;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_CONSTANT_FOLD_H_
