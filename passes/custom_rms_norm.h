// CustomRMSNormFusion: replaces the decomposed RMSNorm of Hugging Face
// modules,
//   w * (x * Reciprocal(Sqrt(ReduceMean(Pow(x, 2), axes=[-1], keepdims=1) +
//   eps)))
// (either operand order of each Mul; Div(x, Sqrt(...)) also matched) with one
// `com.qti.aisw.onnx.CustomRMSNorm(x, w) {epsilon}` node, the op
// QEfficient's graphs carry. Only the exact pattern is rewritten: a
// ReduceMean over another axis, a non-scalar eps or exponent other than 2
// is left alone.
#ifndef QEFF_PASSES_CUSTOM_RMS_NORM_H_
#define QEFF_PASSES_CUSTOM_RMS_NORM_H_

#include "passes/pass.h"

namespace qeff::passes {

class CustomRMSNormFusion : public Pass {
 public:
  absl::string_view name() const override { return "custom_rms_norm"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_CUSTOM_RMS_NORM_H_
