#include "ir/dtype.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace qeff::ir {
namespace {

struct DTypeRow {
  DType t;
  const char* name;
  size_t size;
  int onnx;
};

constexpr DTypeRow kRows[] = {
    {DType::kF32, "f32", 4, 1},    {DType::kF16, "f16", 2, 10},
    {DType::kBF16, "bf16", 2, 16}, {DType::kF64, "f64", 8, 11},
    {DType::kI8, "i8", 1, 3},      {DType::kU8, "u8", 1, 2},
    {DType::kI16, "i16", 2, 5},    {DType::kU16, "u16", 2, 4},
    {DType::kI32, "i32", 4, 6},    {DType::kU32, "u32", 4, 12},
    {DType::kI64, "i64", 8, 7},    {DType::kU64, "u64", 8, 13},
    {DType::kBool, "bool", 1, 9},
};

const DTypeRow& Row(DType t) { return kRows[static_cast<int>(t)]; }

}  // namespace

size_t DTypeSize(DType t) { return Row(t).size; }
absl::string_view DTypeName(DType t) { return Row(t).name; }

absl::StatusOr<DType> ParseDType(absl::string_view name) {
  for (const auto& r : kRows)
    if (name == r.name) return r.t;
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype '", name, "'"));
}

bool IsFloat(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 ||
         t == DType::kF64;
}

bool IsInteger(DType t) { return !IsFloat(t) && t != DType::kBool; }

int DTypeToOnnx(DType t) { return Row(t).onnx; }

absl::StatusOr<DType> DTypeFromOnnx(int onnx_type) {
  for (const auto& r : kRows)
    if (r.onnx == onnx_type) return r.t;
  return absl::UnimplementedError(
      absl::StrCat("unsupported ONNX element type ", onnx_type));
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u |
                                 (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (abs < 0x38800000u) {  // subnormal or zero in half
    // Scale so the half subnormal unit is 1, round to nearest even.
    float af;
    std::memcpy(&af, &abs, 4);
    float scaled = af * 16777216.0f;  // 2^24
    float r = std::nearbyint(scaled);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(r));
  }
  uint32_t mant = abs & 0x7fffffu;
  uint32_t exp = (abs >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float BFloat16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet nan
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}

float RoundToDType(float v, DType t) {
  switch (t) {
    case DType::kF16:
      return HalfToFloat(FloatToHalf(v));
    case DType::kBF16:
      return BFloat16ToFloat(FloatToBFloat16(v));
    default:
      return v;
  }
}

QuantBlockInfo QuantInfo(QuantFormat f) {
  switch (f) {
    case QuantFormat::kNone:
      return {1, 0};
    case QuantFormat::kQ8_0:
      return {32, 34};
    case QuantFormat::kQ4_0:
      return {32, 18};
    case QuantFormat::kQ4_K:
      return {256, 144};
    case QuantFormat::kQ5_K:
      return {256, 176};
    case QuantFormat::kQ6_K:
      return {256, 210};
    case QuantFormat::kMXFP6:
      return {32, 25};
    case QuantFormat::kMXINT8:
      return {32, 33};
  }
  return {1, 0};
}

namespace {
constexpr std::pair<QuantFormat, const char*> kQuantNames[] = {
    {QuantFormat::kNone, "none"},   {QuantFormat::kQ8_0, "q8_0"},
    {QuantFormat::kQ4_0, "q4_0"},   {QuantFormat::kQ4_K, "q4_k"},
    {QuantFormat::kQ5_K, "q5_k"},   {QuantFormat::kQ6_K, "q6_k"},
    {QuantFormat::kMXFP6, "mxfp6"}, {QuantFormat::kMXINT8, "mxint8"},
};
}  // namespace

absl::string_view QuantFormatName(QuantFormat f) {
  return kQuantNames[static_cast<int>(f)].second;
}

absl::StatusOr<QuantFormat> ParseQuantFormat(absl::string_view name) {
  for (const auto& [f, n] : kQuantNames)
    if (name == n) return f;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown quantization format '", name, "'"));
}

}  // namespace qeff::ir
