// The generation shape of a compiled causal-LM program, read from its
// specializations (one reader for every generation path):
//  - continuous batching: "Prefill" (batch_size 1, seq_len S, ctx_len,
//    full_batch_size F) and "Decode" (batch_size F, seq_len 1, the same
//    ctx_len and full_batch_size) — F cache slots, each refilled on its own;
//  - static batching (batch 1 included): "Prefill" (batch_size B, seq_len
//    S, ctx_len) and "Decode" (batch_size B, seq_len 1, the same ctx_len),
//    neither binding full_batch_size — B rows that start and end together.
#ifndef QEFF_ENGINE_BATCH_SHAPES_H_
#define QEFF_ENGINE_BATCH_SHAPES_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "hw/specialization.h"

namespace qeff::engine {

struct BatchShape {
  bool continuous = false;  // slots (continuous batching) or a static batch
  int64_t rows = 1;         // F or B
  int64_t prefill_seq_len = 32;
  int64_t ctx_len = 128;
};

// The continuous-batching shape; anything else is an error naming the
// specialization and symbol.
absl::StatusOr<BatchShape> ContinuousBatchShapeOf(
    const std::vector<hw::Specialization>& specs);
// The static shape; a program binding full_batch_size is an error.
absl::StatusOr<BatchShape> StaticBatchShapeOf(
    const std::vector<hw::Specialization>& specs);
// Either, chosen by whether "Prefill" binds full_batch_size.
absl::StatusOr<BatchShape> BatchShapeOf(
    const std::vector<hw::Specialization>& specs);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_BATCH_SHAPES_H_
