#include "ir/tensor.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ir/shape.h"

namespace qeff::ir {

absl::StatusOr<size_t> TensorByteSize(DType dtype, QuantFormat quant,
                                      const std::vector<int64_t>& dims) {
  for (int64_t d : dims) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "negative dimension in [", absl::StrJoin(dims, ", "), "]"));
    }
  }
  // Overflow-checked: a shape from a file may hold any numbers.
  int64_t n = 1;
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n) || n > (int64_t{1} << 56)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape [", absl::StrJoin(dims, ", "), "] has too many elements"));
    }
  }
  if (quant == QuantFormat::kNone)
    return static_cast<size_t>(n) * DTypeSize(dtype);
  QuantBlockInfo info = QuantInfo(quant);
  int64_t last = dims.empty() ? 1 : dims.back();
  if (last % info.block_values != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        QuantFormatName(quant), " tensor's last dimension ", last,
        " is not a multiple of its block size ", info.block_values));
  }
  return static_cast<size_t>(n / info.block_values * info.block_bytes);
}

Tensor Tensor::Zeros(DType dtype, std::vector<int64_t> dims) {
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.buffer_ = Buffer::Allocate(NumElements(t.dims_) * DTypeSize(dtype));
  return t;
}

absl::StatusOr<Tensor> Tensor::FromBuffer(DType dtype,
                                          std::vector<int64_t> dims,
                                          std::shared_ptr<Buffer> buffer) {
  QEFF_ASSIGN_OR_RETURN(size_t need,
                        TensorByteSize(dtype, QuantFormat::kNone, dims));
  if (buffer == nullptr || buffer->size() != need) {
    return absl::InvalidArgumentError(absl::StrCat(
        DTypeName(dtype), "[", absl::StrJoin(dims, ", "), "] needs ", need,
        " bytes, storage has ", buffer ? buffer->size() : 0));
  }
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.buffer_ = std::move(buffer);
  return t;
}

absl::StatusOr<Tensor> Tensor::FromQuantized(QuantFormat format,
                                             DType logical_dtype,
                                             std::vector<int64_t> dims,
                                             std::shared_ptr<Buffer> buffer) {
  QEFF_ASSIGN_OR_RETURN(size_t need,
                        TensorByteSize(logical_dtype, format, dims));
  if (buffer == nullptr || buffer->size() != need) {
    return absl::InvalidArgumentError(absl::StrCat(
        QuantFormatName(format), " [", absl::StrJoin(dims, ", "), "] needs ",
        need, " bytes, storage has ", buffer ? buffer->size() : 0));
  }
  Tensor t;
  t.dtype_ = logical_dtype;
  t.quant_ = format;
  t.dims_ = std::move(dims);
  t.buffer_ = std::move(buffer);
  return t;
}

Tensor Tensor::F32(std::vector<int64_t> dims, absl::Span<const float> values) {
  Tensor t = Zeros(DType::kF32, std::move(dims));
  QEFF_CHECK(static_cast<int64_t>(values.size()) == t.num_elements());
  if (!values.empty())
    std::memcpy(t.mutable_raw(), values.data(), values.size() * 4);
  return t;
}

Tensor Tensor::I64(std::vector<int64_t> dims,
                   absl::Span<const int64_t> values) {
  Tensor t = Zeros(DType::kI64, std::move(dims));
  QEFF_CHECK(static_cast<int64_t>(values.size()) == t.num_elements());
  if (!values.empty())
    std::memcpy(t.mutable_raw(), values.data(), values.size() * 8);
  return t;
}

int64_t Tensor::num_elements() const { return NumElements(dims_); }

size_t Tensor::byte_size() const { return buffer_ ? buffer_->size() : 0; }

double Tensor::GetDouble(int64_t i) const {
  QEFF_CHECK(!is_quantized());
  const uint8_t* p = raw();
  switch (dtype_) {
    case DType::kF32:
      return reinterpret_cast<const float*>(p)[i];
    case DType::kF16:
      return HalfToFloat(reinterpret_cast<const uint16_t*>(p)[i]);
    case DType::kBF16:
      return BFloat16ToFloat(reinterpret_cast<const uint16_t*>(p)[i]);
    case DType::kF64:
      return reinterpret_cast<const double*>(p)[i];
    case DType::kI8:
      return reinterpret_cast<const int8_t*>(p)[i];
    case DType::kU8:
    case DType::kBool:
      return p[i];
    case DType::kI16:
      return reinterpret_cast<const int16_t*>(p)[i];
    case DType::kU16:
      return reinterpret_cast<const uint16_t*>(p)[i];
    case DType::kI32:
      return reinterpret_cast<const int32_t*>(p)[i];
    case DType::kU32:
      return reinterpret_cast<const uint32_t*>(p)[i];
    case DType::kI64:
      return static_cast<double>(reinterpret_cast<const int64_t*>(p)[i]);
    case DType::kU64:
      return static_cast<double>(reinterpret_cast<const uint64_t*>(p)[i]);
  }
  return 0;
}

int64_t Tensor::GetInt(int64_t i) const {
  QEFF_CHECK(!is_quantized());
  const uint8_t* p = raw();
  switch (dtype_) {
    case DType::kI64:
      return reinterpret_cast<const int64_t*>(p)[i];
    case DType::kU64:
      return static_cast<int64_t>(reinterpret_cast<const uint64_t*>(p)[i]);
    case DType::kI32:
      return reinterpret_cast<const int32_t*>(p)[i];
    case DType::kU32:
      return reinterpret_cast<const uint32_t*>(p)[i];
    default:
      return static_cast<int64_t>(GetDouble(i));
  }
}

std::vector<float> Tensor::ToFloats() const {
  std::vector<float> out(num_elements());
  for (int64_t i = 0; i < num_elements(); ++i)
    out[i] = static_cast<float>(GetDouble(i));
  return out;
}

std::vector<int64_t> Tensor::ToInts() const {
  std::vector<int64_t> out(num_elements());
  for (int64_t i = 0; i < num_elements(); ++i) out[i] = GetInt(i);
  return out;
}

absl::StatusOr<Tensor> Tensor::Reshaped(std::vector<int64_t> dims) const {
  if (NumElements(dims) != num_elements() ||
      (is_quantized() && !dims.empty() && !dims_.empty() &&
       dims.back() != dims_.back())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot reshape ", TypeString(), " to [",
                     absl::StrJoin(dims, ", "), "]"));
  }
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

std::string Tensor::TypeString() const {
  std::string s =
      absl::StrCat(DTypeName(dtype_), "[", absl::StrJoin(dims_, ", "), "]");
  if (is_quantized()) return absl::StrCat(QuantFormatName(quant_), " ", s);
  return s;
}

}  // namespace qeff::ir
