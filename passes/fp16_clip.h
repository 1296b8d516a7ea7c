// FP16Clip: clamps f32 constants into the float16 range [-65504, 65504]
// (±inf kept, NaN kept) so that a graph exported in f32 runs the same when a
// compiler lowers it to fp16 — QEfficient's FP16ClipTransform. Constants
// already in range are untouched (no copy).
#ifndef QEFF_PASSES_FP16_CLIP_H_
#define QEFF_PASSES_FP16_CLIP_H_

#include "passes/pass.h"

namespace qeff::passes {

class FP16Clip : public Pass {
 public:
  absl::string_view name() const override { return "fp16_clip"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;
};

}  // namespace qeff::passes

#endif  // QEFF_PASSES_FP16_CLIP_H_
