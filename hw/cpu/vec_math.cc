#include "hw/cpu/vec_math.h"

#include <algorithm>
#include <cmath>

#include "hw/cpu/linear_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qeff::hw::cpu {
namespace {

constexpr float kLo = -87.3365447504f;  // ln(FLT_MIN): below, exactly 0
constexpr float kHi = 88.3762626647949f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kC1 = 0.693359375f;  // ln 2 = kC1 - kC2
constexpr float kC2 = -2.12194440e-4f;
constexpr float kP[6] = {1.9875691500E-4f, 1.3981999507E-3f, 8.3334519073E-3f,
                         4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f};

inline float SiluMulSpec(float g, float u) {
  return (g / (1.0f + ExpF(-g))) * u;
}

#if defined(__x86_64__)
#define QEFF_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

// ExpF on 16 lanes, the same operations in the same order.
QEFF_AVX512 inline __m512 Exp16(__m512 x) {
  const __mmask16 under =
      _mm512_cmp_ps_mask(x, _mm512_set1_ps(kLo), _CMP_LT_OQ);
  // min(kHi, x) keeps a NaN x (the second operand is returned for NaN).
  x = _mm512_min_ps(_mm512_set1_ps(kHi), x);
  const __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kC1), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kC2), r);
  const __m512 z = _mm512_mul_ps(r, r);
  __m512 p = _mm512_set1_ps(kP[0]);
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP[i]));
  const __m512 y =
      _mm512_add_ps(_mm512_fmadd_ps(p, z, r), _mm512_set1_ps(1.0f));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~under),
                             _mm512_scalef_ps(y, n));
}

inline __mmask16 TailMask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF)
                    : static_cast<__mmask16>((1u << left) - 1);
}

QEFF_AVX512 void ExpShiftedAvx512(float* x, int64_t n, float shift) {
  const __m512 s = _mm512_set1_ps(shift);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512 v = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s);
    _mm512_mask_storeu_ps(x + i, m, Exp16(v));
  }
}

QEFF_AVX512 void SiluMulAvx512(const float* g, const float* u, float* y,
                               int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
    const __m512 uv = _mm512_maskz_loadu_ps(m, u + i);
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv));
    _mm512_mask_storeu_ps(
        y + i, m, _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), uv));
  }
}
QEFF_AVX512 float ScaleAndMaxAvx512(float* x, int64_t n, float scale) {
  const __m512 sv = _mm512_set1_ps(scale);
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), sv);
    _mm512_mask_storeu_ps(x + i, m, v);
    // max(v, mx) returns mx where v is NaN (the second operand).
    mx = _mm512_mask_max_ps(mx, m, v, mx);
  }
  return _mm512_reduce_max_ps(mx);
}

QEFF_AVX512 double SumAsDoubleAvx512(const float* x, int64_t n) {
  __m512d p = _mm512_setzero_pd();
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t left = n - i;
    const __mmask8 m = left >= 8 ? static_cast<__mmask8>(0xFF)
                                 : static_cast<__mmask8>((1u << left) - 1);
    p = _mm512_add_pd(p, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i)));
  }
  // ((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7)).
  const __m256d h =
      _mm256_add_pd(_mm512_castpd512_pd256(p), _mm512_extractf64x4_pd(p, 1));
  const __m128d q =
      _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
  return _mm_cvtsd_f64(q) + _mm_cvtsd_f64(_mm_unpackhi_pd(q, q));
}

QEFF_AVX512 void DivideByAvx512(float* x, int64_t n, double d) {
  const __m512d dv = _mm512_set1_pd(d);
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t left = n - i;
    const __mmask8 m = left >= 8 ? static_cast<__mmask8>(0xFF)
                                 : static_cast<__mmask8>((1u << left) - 1);
    const __m512d v = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i));
    _mm256_mask_storeu_ps(x + i, m, _mm512_cvtpd_ps(_mm512_div_pd(v, dv)));
  }
}
#endif

}  // namespace

float ScaleAndMax(float* x, int64_t n, float scale) {
#if defined(__x86_64__)
  if (linear::HasAvx512()) return ScaleAndMaxAvx512(x, n, scale);
#endif
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    x[i] *= scale;
    mx = std::max(mx, x[i]);
  }
  return mx;
}

double SumAsDouble(const float* x, int64_t n) {
#if defined(__x86_64__)
  if (linear::HasAvx512()) return SumAsDoubleAvx512(x, n);
#endif
  double p[8] = {};
  for (int64_t i = 0; i < n; ++i) p[i % 8] += x[i];
  return ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
}

void DivideBy(float* x, int64_t n, double d) {
#if defined(__x86_64__)
  if (linear::HasAvx512()) return DivideByAvx512(x, n, d);
#endif
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(static_cast<double>(x[i]) / d);
}

float ExpF(float x) {
  if (x != x) return x;
  if (x < kLo) return 0.0f;
  if (x > kHi) x = kHi;
  const float n = std::nearbyint(x * kLog2e);
  float r = std::fma(n, -kC1, x);
  r = std::fma(n, -kC2, r);
  const float z = r * r;
  float p = kP[0];
  for (int i = 1; i < 6; ++i) p = std::fma(p, r, kP[i]);
  const float y = std::fma(p, z, r) + 1.0f;
  return std::ldexp(y, static_cast<int>(n));
}

void ExpShifted(float* x, int64_t n, float shift) {
#if defined(__x86_64__)
  if (linear::HasAvx512()) return ExpShiftedAvx512(x, n, shift);
#endif
  for (int64_t i = 0; i < n; ++i) x[i] = ExpF(x[i] - shift);
}

void SiluMul(const float* g, const float* u, float* y, int64_t n) {
#if defined(__x86_64__)
  if (linear::HasAvx512()) return SiluMulAvx512(g, u, y, n);
#endif
  for (int64_t i = 0; i < n; ++i) y[i] = SiluMulSpec(g[i], u[i]);
}

}  // namespace qeff::hw::cpu
