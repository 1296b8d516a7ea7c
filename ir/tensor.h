// A tensor value: dtype, static shape and shared byte storage. Plain tensors
// store elements densely in row-major order. Quantized tensors (weights from
// GGUF or MX formats) keep a logical float shape with `quant() != kNone`;
// their bytes are rows of blocks along the last dimension, which must be a
// multiple of the block size. Copies share storage; kernels that write make
// new tensors (Tensor::Zeros) and fill them before publishing.
#ifndef QEFF_IR_TENSOR_H_
#define QEFF_IR_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ir/buffer.h"
#include "ir/dtype.h"

namespace qeff::ir {

class Tensor {
 public:
  Tensor() = default;  // an empty f32 scalar without storage

  static Tensor Zeros(DType dtype, std::vector<int64_t> dims);
  // Wraps existing storage; checks that it holds exactly the bytes needed.
  static absl::StatusOr<Tensor> FromBuffer(DType dtype,
                                           std::vector<int64_t> dims,
                                           std::shared_ptr<Buffer> buffer);
  static absl::StatusOr<Tensor> FromQuantized(QuantFormat format,
                                              DType logical_dtype,
                                              std::vector<int64_t> dims,
                                              std::shared_ptr<Buffer> buffer);
  // Convenience constructors for tests and builders.
  static Tensor F32(std::vector<int64_t> dims, absl::Span<const float> values);
  static Tensor I64(std::vector<int64_t> dims,
                    absl::Span<const int64_t> values);
  static Tensor ScalarF32(float v) { return F32({}, {v}); }
  static Tensor ScalarI64(int64_t v) { return I64({}, {v}); }

  DType dtype() const { return dtype_; }
  QuantFormat quant() const { return quant_; }
  bool is_quantized() const { return quant_ != QuantFormat::kNone; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t num_elements() const;
  size_t byte_size() const;
  bool has_storage() const { return buffer_ != nullptr; }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }

  const uint8_t* raw() const { return buffer_->data(); }
  uint8_t* mutable_raw() { return buffer_->mutable_data(); }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(buffer_->data());
  }
  template <typename T>
  T* mutable_data() {
    return reinterpret_cast<T*>(buffer_->mutable_data());
  }

  // Element i as double / int64 (any plain dtype); for tests and folding.
  double GetDouble(int64_t i) const;
  int64_t GetInt(int64_t i) const;
  // All elements converted to float/int64 (plain dtypes; quantized tensors
  // are dequantized by ir/quant.h, not here).
  std::vector<float> ToFloats() const;
  std::vector<int64_t> ToInts() const;
  // Same bytes, new dims with the same element count.
  absl::StatusOr<Tensor> Reshaped(std::vector<int64_t> dims) const;

  // "f32[2, 3]" or "q4_0 f32[4096, 4096]".
  std::string TypeString() const;

 private:
  DType dtype_ = DType::kF32;
  QuantFormat quant_ = QuantFormat::kNone;
  std::vector<int64_t> dims_;
  std::shared_ptr<Buffer> buffer_;
};

// Bytes needed by a tensor of this type.
absl::StatusOr<size_t> TensorByteSize(DType dtype, QuantFormat quant,
                                      const std::vector<int64_t>& dims);

}  // namespace qeff::ir

#endif  // QEFF_IR_TENSOR_H_
