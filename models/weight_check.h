// Loaded weights must be finite: a checkpoint whose floating-point weights
// hold a NaN or an infinity (a corrupt or bit-flipped file, a diverged
// training run) is refused at load naming the tensor and element, rather
// than exporting and compiling a program that yields NaN logits.
//
// Checks f32, f64, f16 and bf16 tensors (one pass over their bytes, which
// are memory-mapped, dropping each tensor's mapped pages from the process
// after reading them: Buffer::ReleasePages); block-quantized weights (Q8_0,
// Q4_0, K-quants, MXFP6) and integer tensors are not checked.
#ifndef QEFF_MODELS_WEIGHT_CHECK_H_
#define QEFF_MODELS_WEIGHT_CHECK_H_

#include <string>

#include "absl/status/status.h"
#include "models/arch/builder_util.h"

namespace qeff::models {

// OK, or InvalidArgument "<source>: tensor NAME element I is nan|inf" for the
// first non-finite value (tensors in name order).
absl::Status CheckWeightsFinite(const std::string& source,
                                const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_WEIGHT_CHECK_H_
