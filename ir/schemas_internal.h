// Helpers shared by the op schema files (ir/schemas_*.cc). Not a public API.
#ifndef QEFF_IR_SCHEMAS_INTERNAL_H_
#define QEFF_IR_SCHEMAS_INTERNAL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ir/op_schema.h"

namespace qeff::ir::schemas {

using Registry = std::vector<OpSchema>;

// Each file registers its family.
void RegisterElementwise(Registry* r);
void RegisterShapeOps(Registry* r);
void RegisterNnOps(Registry* r);
void RegisterCustomOps(Registry* r);
void RegisterConvOps(Registry* r);  // schemas_conv.cc

inline AttrSpec Attr(std::string name, Attribute::Kind kind,
                     bool required = false) {
  return AttrSpec{std::move(name), kind, required};
}
constexpr Attribute::Kind kInt = Attribute::Kind::kInt;
constexpr Attribute::Kind kFloat = Attribute::Kind::kFloat;
constexpr Attribute::Kind kString = Attribute::Kind::kString;
constexpr Attribute::Kind kTensorAttr = Attribute::Kind::kTensor;
constexpr Attribute::Kind kInts = Attribute::Kind::kInts;
constexpr Attribute::Kind kFloats = Attribute::Kind::kFloats;
constexpr Attribute::Kind kStrings = Attribute::Kind::kStrings;

template <typename... Args>
absl::Status Error(const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(args...));
}

// Normalizes a possibly negative axis into [0, rank); `what` names the
// attribute or input in the error.
absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank,
                                  absl::string_view what);

// Requires the input to be ranked with exactly `rank` dims (when ranked).
absl::Status CheckRank(const InferenceContext& ctx, int input, int rank,
                       absl::string_view what);

// Product of dims (static parts folded).
Dim Product(const std::vector<Dim>& dims);
// `num / den` where both are products of dims: cancels common non-static
// factors and divides static parts, so `[b, s, 512] / [b, s, 8]` is 64.
// Falls back to a floor-division expression.
Dim DivideProducts(const std::vector<Dim>& num, const std::vector<Dim>& den);

// Sets output i's type.
inline void SetOutput(InferenceContext& ctx, int i, DType t, Shape s) {
  ctx.outputs[i] = TensorType{t, std::move(s)};
}
// Output 0 = input 0's type (elementwise unary ops).
inline absl::Status SameAsInput0(InferenceContext& ctx) {
  ctx.outputs[0] = ctx.input_type(0);
  return absl::OkStatus();
}

// A shape of `rank` unknown dims.
Shape UnknownDims(int rank);

}  // namespace qeff::ir::schemas

#endif  // QEFF_IR_SCHEMAS_INTERNAL_H_
