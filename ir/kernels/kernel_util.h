// Helpers shared by the reference evaluator's kernels: error messages that
// name the node, axis normalisation, numpy broadcasting, and conversion of
// tensors to and from wide (double / int64) element vectors. Kernels compute
// in double (floats) or int64/uint64 (integers) and round once on output.
#ifndef QEFF_IR_KERNELS_KERNEL_UTIL_H_
#define QEFF_IR_KERNELS_KERNEL_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ir/evaluator.h"
#include "ir/tensor.h"

namespace qeff::ir::kernels {

using Dims = std::vector<int64_t>;

// InvalidArgument "<node>: <msg>".
template <typename... Args>
absl::Status Error(const KernelContext& ctx, const Args&... args) {
  return absl::InvalidArgumentError(
      absl::StrCat(ctx.node.Describe(), ": ", args...));
}

// Returns the input, or an error naming the node when it is absent.
absl::StatusOr<const Tensor*> Required(const KernelContext& ctx, int i);
// Checks that the node has at least `min` inputs present.
absl::Status RequireInputs(const KernelContext& ctx, int min);

// Normalises an axis in [-rank, rank) (or [-rank, rank] with `extra`).
absl::StatusOr<int64_t> NormAxis(const KernelContext& ctx, int64_t axis,
                                 int64_t rank);

// Row-major strides.
Dims Strides(const Dims& dims);
std::string DimsString(const Dims& dims);

// numpy multidirectional broadcast of several shapes.
absl::StatusOr<Dims> BroadcastShapes(const KernelContext& ctx,
                                     const std::vector<Dims>& shapes);
// For each flat index of `out`, the flat index into a tensor of dims `in`
// (which broadcasts to `out`).
std::vector<int64_t> BroadcastIndex(const Dims& in, const Dims& out);

// Elements as double (float dtypes, or any plain dtype) / int64 (integers,
// bool; u64 keeps its bit pattern).
std::vector<double> AsDoubles(const Tensor& t);
std::vector<int64_t> AsInts(const Tensor& t);
// Builds a tensor from wide values, rounding floats to the dtype (f16/bf16
// via RoundToDType semantics) and truncating integers (two's complement
// wrap); bool is v != 0.
Tensor FromDoubles(DType dtype, Dims dims, const std::vector<double>& v);
Tensor FromInts(DType dtype, Dims dims, const std::vector<int64_t>& v);
// Writes one double / int64 element (same conversions as above).
void StoreDouble(Tensor& t, int64_t i, double v);
void StoreInt(Tensor& t, int64_t i, int64_t v);

// Integer list from a 1-D (or scalar) int tensor input.
absl::StatusOr<std::vector<int64_t>> IntList(const KernelContext& ctx, int i);

bool IsUnsigned(DType t);

// A copy of `t` with its own storage (so a kernel may write into it).
Tensor Clone(const Tensor& t);

}  // namespace qeff::ir::kernels

#endif  // QEFF_IR_KERNELS_KERNEL_UTIL_H_
