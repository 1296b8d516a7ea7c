#include "ir/quant.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::ir {
namespace {

float F16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return HalfToFloat(h);
}

void PutF16(uint8_t* p, float v) {
  uint16_t h = FloatToHalf(v);
  std::memcpy(p, &h, 2);
}

// ggml's get_scale_min_k4: 6-bit scale and min of sub-block j (0..7).
void GetScaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

void DequantQ4K(const uint8_t* b, float* y) {
  const float d = F16At(b);
  const float min = F16At(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  int is = 0;
  uint8_t sc, m;
  for (int j = 0; j < 256; j += 64) {
    GetScaleMinK4(is + 0, scales, &sc, &m);
    const float d1 = d * sc, m1 = min * m;
    GetScaleMinK4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = min * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    q += 32;
    is += 2;
  }
}

}  // namespace

void Q4KSubBlockScales(const uint8_t* b, float* d8, float* m8) {
  const float d = F16At(b), min = F16At(b + 2);
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, m;
    GetScaleMinK4(s, b + 4, &sc, &m);
    d8[s] = d * sc;
    m8[s] = min * m;
  }
}

namespace {

void DequantQ5K(const uint8_t* b, float* y) {
  const float d = F16At(b);
  const float min = F16At(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  int is = 0;
  uint8_t sc, m;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < 256; j += 64) {
    GetScaleMinK4(is + 0, scales, &sc, &m);
    const float d1 = d * sc, m1 = min * m;
    GetScaleMinK4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = min * m;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    ql += 32;
    is += 2;
    u1 <<= 2;
    u2 <<= 2;
  }
}

void DequantQ6K(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = F16At(b + 208);
  for (int n = 0; n < 256; n += 128) {
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      const int8_t q1 =
          static_cast<int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) -
          32;
      const int8_t q2 =
          static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) -
          32;
      const int8_t q3 =
          static_cast<int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) -
          32;
      const int8_t q4 =
          static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) -
          32;
      y[l + 0] = d * sc[is + 0] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

uint8_t GetFp6(const uint8_t* stream, int i) {
  int bit = 6 * i;
  uint32_t w = stream[bit / 8];
  if (bit / 8 + 1 < 24) w |= static_cast<uint32_t>(stream[bit / 8 + 1]) << 8;
  return (w >> (bit % 8)) & 0x3F;
}

void PutFp6(uint8_t* stream, int i, uint8_t code) {
  for (int k = 0; k < 6; ++k) {
    int bit = 6 * i + k;
    if ((code >> k) & 1) stream[bit / 8] |= 1u << (bit % 8);
  }
}

// Shared exponent per OCP MX v1.0 §6.3: floor(log2(amax)) - emax_elem,
// clamped to E8M0's range [-127, 127]; amax 0 gives the smallest scale.
int SharedExponent(const float* in, int emax_elem) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(in[j]));
  if (amax == 0 || !std::isfinite(amax)) return -127;
  int e = static_cast<int>(std::floor(std::log2(amax))) - emax_elem;
  return std::max(-127, std::min(127, e));
}

// Nearest FP6 E2M3 code to v (saturating at 7.5), ties to an even code.
uint8_t FloatToFp6(float v) {
  uint8_t sign = std::signbit(v) ? 0x20 : 0;
  float a = std::fabs(v);
  uint8_t best = 0;
  float best_err = INFINITY;
  for (uint8_t c = 0; c < 32; ++c) {
    float err = std::fabs(Fp6E2M3ToFloat(c) - a);
    if (err < best_err || (err == best_err && (c & 1) == 0)) {
      best = c;
      best_err = err;
    }
  }
  return sign | best;
}

}  // namespace

float Fp6E2M3ToFloat(uint8_t code) {
  int s = (code >> 5) & 1;
  int e = (code >> 3) & 3;
  int m = code & 7;
  float v = e == 0 ? m / 8.0f : std::ldexp(1.0f + m / 8.0f, e - 1);
  return s ? -v : v;
}

float E8M0ToFloat(uint8_t e) {
  if (e == 0xFF) return NAN;
  return std::ldexp(1.0f, static_cast<int>(e) - 127);
}

absl::Status DequantizeBlock(QuantFormat format, const uint8_t* b, float* y) {
  switch (format) {
    case QuantFormat::kQ8_0: {
      const float d = F16At(b);
      for (int j = 0; j < 32; ++j) y[j] = static_cast<int8_t>(b[2 + j]) * d;
      return absl::OkStatus();
    }
    case QuantFormat::kQ4_0: {
      const float d = F16At(b);
      for (int j = 0; j < 16; ++j) {
        y[j] = ((b[2 + j] & 0x0F) - 8) * d;
        y[j + 16] = ((b[2 + j] >> 4) - 8) * d;
      }
      return absl::OkStatus();
    }
    case QuantFormat::kQ4_K:
      DequantQ4K(b, y);
      return absl::OkStatus();
    case QuantFormat::kQ5_K:
      DequantQ5K(b, y);
      return absl::OkStatus();
    case QuantFormat::kQ6_K:
      DequantQ6K(b, y);
      return absl::OkStatus();
    case QuantFormat::kMXFP6: {
      const float x = E8M0ToFloat(b[0]);
      for (int j = 0; j < 32; ++j) y[j] = x * Fp6E2M3ToFloat(GetFp6(b + 1, j));
      return absl::OkStatus();
    }
    case QuantFormat::kMXINT8: {
      const float x = E8M0ToFloat(b[0]);
      for (int j = 0; j < 32; ++j)
        y[j] = x * (static_cast<int8_t>(b[1 + j]) * (1.0f / 64));
      return absl::OkStatus();
    }
    case QuantFormat::kNone:
      break;
  }
  return absl::InvalidArgumentError("DequantizeBlock: not a block format");
}

absl::Status QuantizeBlock(QuantFormat format, const float* x, uint8_t* b) {
  switch (format) {
    case QuantFormat::kQ8_0: {  // ggml quantize_row_q8_0_ref
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
      const float d = amax / ((1 << 7) - 1);
      const float id = d ? 1.0f / d : 0.0f;
      PutF16(b, d);
      for (int j = 0; j < 32; ++j)
        b[2 + j] =
            static_cast<uint8_t>(static_cast<int8_t>(std::roundf(x[j] * id)));
      return absl::OkStatus();
    }
    case QuantFormat::kQ4_0: {  // ggml quantize_row_q4_0_ref
      float amax = 0, max = 0;
      for (int j = 0; j < 32; ++j) {
        if (amax < std::fabs(x[j])) {
          amax = std::fabs(x[j]);
          max = x[j];
        }
      }
      const float d = max / -8;
      const float id = d ? 1.0f / d : 0.0f;
      PutF16(b, d);
      for (int j = 0; j < 16; ++j) {
        const float x0 = x[j] * id;
        const float x1 = x[16 + j] * id;
        const uint8_t xi0 = std::min<int>(15, static_cast<int8_t>(x0 + 8.5f));
        const uint8_t xi1 = std::min<int>(15, static_cast<int8_t>(x1 + 8.5f));
        b[2 + j] = xi0 | (xi1 << 4);
      }
      return absl::OkStatus();
    }
    case QuantFormat::kMXFP6: {
      const int e = SharedExponent(x, 2);
      b[0] = static_cast<uint8_t>(e + 127);
      std::memset(b + 1, 0, 24);
      for (int j = 0; j < 32; ++j)
        PutFp6(b + 1, j, FloatToFp6(std::ldexp(x[j], -e)));
      return absl::OkStatus();
    }
    case QuantFormat::kMXINT8: {
      const int e = SharedExponent(x, 0);
      b[0] = static_cast<uint8_t>(e + 127);
      for (int j = 0; j < 32; ++j) {
        float q = std::nearbyint(std::ldexp(x[j], 6 - e));  // ties to even
        if (std::isnan(q)) q = 0;
        q = std::max(-127.0f, std::min(127.0f, q));
        b[1 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
      }
      return absl::OkStatus();
    }
    default:
      break;
  }
  return absl::UnimplementedError(absl::StrCat(
      "quantization to ", QuantFormatName(format), " is not implemented"));
}

absl::StatusOr<Tensor> Dequantize(const Tensor& q) {
  if (!q.is_quantized()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Dequantize: ", q.TypeString(), " is not quantized"));
  }
  QuantBlockInfo info = QuantInfo(q.quant());
  QEFF_ASSIGN_OR_RETURN(size_t need,
                        TensorByteSize(q.dtype(), q.quant(), q.dims()));
  if (!q.has_storage() || q.byte_size() != need) {
    return absl::InvalidArgumentError(
        absl::StrCat("Dequantize: ", q.TypeString(), " needs ", need,
                     " bytes, has ", q.byte_size()));
  }
  Tensor out = Tensor::Zeros(DType::kF32, q.dims());
  int64_t blocks = q.num_elements() / info.block_values;
  float* y = out.mutable_data<float>();
  const uint8_t* b = q.raw();
  for (int64_t i = 0; i < blocks; ++i) {
    QEFF_RETURN_IF_ERROR(DequantizeBlock(q.quant(), b + i * info.block_bytes,
                                         y + i * info.block_values));
  }
  return out;
}

absl::StatusOr<Tensor> Quantize(const Tensor& f, QuantFormat format) {
  if (f.is_quantized() || !IsFloat(f.dtype())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Quantize: input ", f.TypeString(), " is not a plain float tensor"));
  }
  if (format == QuantFormat::kNone) {
    return absl::InvalidArgumentError("Quantize: format is none");
  }
  QuantBlockInfo info = QuantInfo(format);
  QEFF_ASSIGN_OR_RETURN(size_t bytes,
                        TensorByteSize(DType::kF32, format, f.dims()));
  std::vector<float> x = f.ToFloats();
  auto buf = Buffer::Allocate(bytes);
  int64_t blocks = f.num_elements() / info.block_values;
  for (int64_t i = 0; i < blocks; ++i) {
    QEFF_RETURN_IF_ERROR(
        QuantizeBlock(format, x.data() + i * info.block_values,
                      buf->mutable_data() + i * info.block_bytes));
  }
  return Tensor::FromQuantized(format, DType::kF32, f.dims(), std::move(buf));
}

}  // namespace qeff::ir
