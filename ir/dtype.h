// Element types of IR tensors and the block formats of quantized weights.
#ifndef QEFF_IR_DTYPE_H_
#define QEFF_IR_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::ir {

// Plain element types. f64/i16/u16/u32/u64 exist so that ONNX's own test
// suite imports; qeff's model graphs use the others.
enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kF64,
  kI8,
  kU8,
  kI16,
  kU16,
  kI32,
  kU32,
  kI64,
  kU64,
  kBool,
};

// Bytes per element.
size_t DTypeSize(DType t);
// "f32", "f16", "bf16", "f64", "i8", "u8", "i16", "u16", "i32", "u32",
// "i64", "u64", "bool" — the text format's spelling.
absl::string_view DTypeName(DType t);
absl::StatusOr<DType> ParseDType(absl::string_view name);
bool IsFloat(DType t);
bool IsInteger(DType t);  // signed or unsigned, not bool

// ONNX TensorProto.DataType codes.
int DTypeToOnnx(DType t);
absl::StatusOr<DType> DTypeFromOnnx(int onnx_type);

// IEEE half and bfloat16 conversions (round to nearest even).
float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
float BFloat16ToFloat(uint16_t b);
uint16_t FloatToBFloat16(float f);
// Rounds a float to the nearest value representable in `t` (f16/bf16);
// identity for f32.
float RoundToDType(float v, DType t);

// Block formats of quantized weight storage. A quantized tensor has a
// logical float shape; its bytes are rows of blocks along the last dim.
enum class QuantFormat : uint8_t {
  kNone,
  kQ8_0,    // GGUF: 32 values, f16 scale + 32 x int8 (34 bytes)
  kQ4_0,    // GGUF: 32 values, f16 scale + 16 bytes of nibbles (18 bytes)
  kQ4_K,    // GGUF: 256 values, 144 bytes
  kQ5_K,    // GGUF: 256 values, 176 bytes
  kQ6_K,    // GGUF: 256 values, 210 bytes
  kMXFP6,   // OCP MX: 32 x FP6 E2M3 + shared E8M0 scale (25 bytes)
  kMXINT8,  // OCP MX: 32 x int8 (scaled by 2^-6) + shared E8M0 (33 bytes)
};

struct QuantBlockInfo {
  int64_t block_values;  // logical values per block
  int64_t block_bytes;   // bytes per block
};

QuantBlockInfo QuantInfo(QuantFormat f);
absl::string_view QuantFormatName(QuantFormat f);  // "q8_0", "q4_k", "mxfp6"...
absl::StatusOr<QuantFormat> ParseQuantFormat(absl::string_view name);

}  // namespace qeff::ir

#endif  // QEFF_IR_DTYPE_H_
