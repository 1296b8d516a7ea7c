// Linear on f32 / f16 / bf16 / K-quant / MX weights, AVX-512 (16-lane)
// path (linear_internal.h). Built for x86-64-v3 like the rest of the
// driver: the functions here carry target attributes and run only when
// HasAvx512() says so at run time.
//
// Work item: a block of up to kFeatBlock output features, in tiles of kNJ
// features: a tile's weight rows are decoded once over the whole K (f32 is
// read in place), then input rows go through it in tiles of up to kNI (a
// register-blocked FMA micro-kernel: kNI x kNJ zmm accumulators held over
// the whole K, each input vector loaded once per step). Each (row, feature)
// pair owns 16 f32 accumulator lanes: lane l is one FMA chain over k = l
// (mod 16) in ascending k, whatever the tiling, M or the thread count; the
// 16 lanes are reduced by HSum16 at the end (batch-invariant).
#include <algorithm>
#include <cstring>
#include <vector>

#include "hw/cpu/linear_internal.h"
#include "ir/quant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qeff::hw::cpu::linear {

#if defined(__x86_64__)
namespace {

using ir::DType;
using ir::QuantFormat;

#define QEFF_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

constexpr int kNI = 6, kNJ = 4;

template <int NI, int NJ, bool kPrefetch>
QEFF_AVX512 void MicroF(int64_t len, const float* const* x,
                        const float* const* w, float* acc, int64_t acc_si) {
  __m512 a[NI][NJ];
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < NJ; ++j)
      a[i][j] = _mm512_loadu_ps(acc + i * acc_si + j * 16);
  for (int64_t v = 0; v < len; v += 16) {
    __m512 wv[NJ];
    for (int j = 0; j < NJ; ++j) {
      // In-place f32 rows stream from memory (decode): fetch ahead; past
      // the row end it is the next row (prefetch never faults).
      if (kPrefetch)
        _mm_prefetch(reinterpret_cast<const char*>(w[j] + v) + 1024,
                     _MM_HINT_T0);
      wv[j] = _mm512_loadu_ps(w[j] + v);
    }
    for (int i = 0; i < NI; ++i) {
      __m512 xv = _mm512_loadu_ps(x[i] + v);
      // Keep xv in a register: the compiler would otherwise fold the load
      // into each of the NJ FMAs (NJ loads of one vector: load-bound).
      __asm__("" : "+v"(xv));
      for (int j = 0; j < NJ; ++j)
        a[i][j] = _mm512_fmadd_ps(wv[j], xv, a[i][j]);
    }
  }
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < NJ; ++j)
      _mm512_storeu_ps(acc + i * acc_si + j * 16, a[i][j]);
}

using MicroFn = void (*)(int64_t, const float* const*, const float* const*,
                         float*, int64_t);
template <int NI, bool P>
MicroFn PickJ(int nj) {
  switch (nj) {
    case 1:
      return MicroF<NI, 1, P>;
    case 2:
      return MicroF<NI, 2, P>;
    case 3:
      return MicroF<NI, 3, P>;
    default:
      return MicroF<NI, 4, P>;
  }
}
template <bool P>
MicroFn PickNI(int ni, int nj) {
  switch (ni) {
    case 1:
      return PickJ<1, P>(nj);
    case 2:
      return PickJ<2, P>(nj);
    case 3:
      return PickJ<3, P>(nj);
    case 4:
      return PickJ<4, P>(nj);
    case 5:
      return PickJ<5, P>(nj);
    default:
      return PickJ<6, P>(nj);
  }
}
// Prefetch only where weight rows stream from memory (whole-K decode).
MicroFn PickMicro(int ni, int nj, bool stream) {
  return stream ? PickNI<true>(ni, nj) : PickNI<false>(ni, nj);
}

// Values [v0, v0 + len) of one weight row as floats: in place for f32,
// else decoded exactly into dst.
QEFF_AVX512 const float* DecodeChunk(const LinearArgs& a, const uint8_t* row,
                                     int64_t v0, int64_t len, float* dst) {
  if (a.quant != QuantFormat::kNone) {
    for (int64_t b = 0; b < len; b += a.block)
      ir::DequantizeBlock(a.quant, row + (v0 + b) / a.block * a.block_bytes,
                          dst + b)
          .IgnoreError();
    return dst;
  }
  if (a.dtype == DType::kF32) return reinterpret_cast<const float*>(row) + v0;
  const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + v0;
  if (a.dtype == DType::kF16) {
    for (int64_t v = 0; v < len; v += 16) {
      _mm_prefetch(reinterpret_cast<const char*>(p + v) + 1024, _MM_HINT_T0);
      _mm512_storeu_ps(dst + v, _mm512_cvtph_ps(_mm256_loadu_si256(
                                    reinterpret_cast<const __m256i*>(p + v))));
    }
    return dst;
  }
  for (int64_t v = 0; v < len; v += 16) {  // bf16
    const __m512i u = _mm512_slli_epi32(
        _mm512_cvtepu16_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + v))),
        16);
    _mm512_storeu_ps(dst + v, _mm512_castsi512_ps(u));
  }
  return dst;
}

void RunBlock(const LinearArgs& a, int64_t jb, int64_t je) {
  const int64_t nf = je - jb;
  thread_local std::vector<float> acc;
  thread_local std::vector<float> buf;
  acc.assign(a.M * kFeatBlock * 16, 0.0f);
  const int64_t acc_si = kFeatBlock * 16;
  // Each tile of kNJ weight rows is decoded (f32: read in place) over the
  // whole K, then every row tile runs over it in one micro-kernel call
  // (accumulators stay in registers for the whole K; the tile stays in
  // L1/L2 for the following row tiles). The first row tile streams the
  // weight rows from memory and prefetches ahead.
  buf.resize(kNJ * a.K);
  for (int64_t j0 = 0; j0 < nf; j0 += kNJ) {
    const int nj = static_cast<int>(std::min<int64_t>(kNJ, nf - j0));
    const float* wp[kNJ];
    for (int j = 0; j < nj; ++j)
      wp[j] = DecodeChunk(a, a.w + (jb + j0 + j) * a.row_bytes, 0, a.K,
                          buf.data() + j * a.K);
    for (int64_t i0 = 0; i0 < a.M; i0 += kNI) {
      const int ni = static_cast<int>(std::min<int64_t>(kNI, a.M - i0));
      const float* xp[kNI];
      for (int i = 0; i < ni; ++i) xp[i] = a.x + (i0 + i) * a.K;
      PickMicro(ni, nj, i0 == 0)(a.K, xp, wp,
                                 acc.data() + i0 * acc_si + j0 * 16, acc_si);
    }
  }
  for (int64_t i = 0; i < a.M; ++i) {
    for (int64_t f = 0; f < nf; ++f) {
      const float r = HSum16(acc.data() + i * acc_si + f * 16);
      a.y[i * a.N + jb + f] = a.bias ? r + a.bias[jb + f] : r;
    }
  }
}

}  // namespace

bool FloatAvx512Applies(const LinearArgs& a) {
  if (!HasAvx512() || a.K % 16 != 0) return false;
  if (a.quant != QuantFormat::kNone) return kChunk % a.block == 0;
  return a.dtype == DType::kF32 || a.dtype == DType::kF16 ||
         a.dtype == DType::kBF16;
}

void LinearFloatAvx512(const LinearArgs& a) {
  ForFeatureBlocks(a.N, [&](int64_t jb, int64_t je) {
    for (int64_t j = jb; j < je; j += kFeatBlock)
      RunBlock(a, j, std::min(je, j + kFeatBlock));
  });
}

#else  // !__x86_64__

bool FloatAvx512Applies(const LinearArgs&) { return false; }
void LinearFloatAvx512(const LinearArgs&) {}

#endif

}  // namespace qeff::hw::cpu::linear
