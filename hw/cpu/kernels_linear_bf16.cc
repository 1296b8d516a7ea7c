// Linear on panel-packed bf16 weights with bf16 activations (the "bf16
// pairs" specification of linear_internal.h): the AVX-512 BF16 kernel
// (vdpbf16ps, twice the f32 FMA rate), the same arithmetic emulated with
// AVX-512F FMAs on hosts without BF16, and the portable scalar path. All
// three give the specification's bits, whatever M, the tiling or the thread
// count. Built for x86-64-v3 like the rest of the driver: the AVX-512
// functions carry target attributes and run only where the host has them.
//
// Work item: up to kPanelsPerItem panels of 16 features (ForPanelItems).
// The activations are converted once per call into bf16 pairs; a prefill
// item walks K in chunks whose panels stay in L1 for every tile of kNI
// rows, a decode item streams its panels over the whole K.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "hw/cpu/kernels.h"
#include "hw/cpu/linear_internal.h"
#include "hw/cpu/micro_tile.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qeff::hw::cpu::linear {
namespace {

using ir::DType;

float Bf16Value(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// vdpbf16ps' output rule: a denormal result becomes a zero of its sign.
float FlushDenormal(float v) {
  return std::fabs(v) < FLT_MIN ? std::copysign(0.0f, v) : v;
}

// bf16 bits with a denormal (zero exponent) flushed to a zero of its sign.
uint16_t FlushBf16(uint16_t h) { return (h & 0x7f80u) ? h : (h & 0x8000u); }

// One (row, feature) result over bf16 pairs: w and x hold Kp = 2 * pairs
// flushed bf16 values.
float PairChain(const uint16_t* w, const uint16_t* x, int64_t pairs) {
  float acc = 0.0f;
  for (int64_t kp = 0; kp < pairs; ++kp) {
    acc = FlushDenormal(
        std::fma(Bf16Value(w[2 * kp + 1]), Bf16Value(x[2 * kp + 1]), acc));
    acc = FlushDenormal(
        std::fma(Bf16Value(w[2 * kp]), Bf16Value(x[2 * kp]), acc));
  }
  return acc;
}

// x rows [M, K] f32 -> [M, Kp] flushed bf16 (zero past K), rows [rb, re).
void ConvertRowsPortable(const float* x, int64_t K, int64_t Kp, int64_t rb,
                         int64_t re, uint16_t* out) {
  for (int64_t i = rb; i < re; ++i) {
    for (int64_t k = 0; k < K; ++k)
      out[i * Kp + k] = ActivationToBf16(x[i * K + k]);
    for (int64_t k = K; k < Kp; ++k) out[i * Kp + k] = 0;
  }
}

#if defined(__x86_64__)
#define QEFF_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define QEFF_AVX512_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

constexpr int kNI = 6;                  // input rows per micro-tile
constexpr int64_t kPairsPerChunk = 64;  // prefill: 4 panels x 4 KiB in L1
constexpr int64_t kStreamRows = 4;      // M up to this: stream the panels
constexpr int64_t kPrefetch = 1024;     // bytes ahead in streamed panels

// ActivationToBf16 on 16 values (bit for bit).
QEFF_AVX512 inline __m256i ToBf16x16(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i lsb =
      _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(
      _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))),
      16);
  const __m512i mag = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan =
      _mm512_cmpgt_epu32_mask(mag, _mm512_set1_epi32(0x7f800000));
  r = _mm512_mask_mov_epi32(
      r, nan,
      _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
  const __mmask16 denorm =
      _mm512_testn_epi32_mask(r, _mm512_set1_epi32(0x7f80));
  r = _mm512_mask_and_epi32(r, denorm, r, _mm512_set1_epi32(0x8000));
  return _mm512_cvtepi32_epi16(r);
}

QEFF_AVX512 void ConvertRowsAvx512(const float* x, int64_t K, int64_t Kp,
                                   int64_t rb, int64_t re, uint16_t* out) {
  for (int64_t i = rb; i < re; ++i) {
    const float* xi = x + i * K;
    uint16_t* oi = out + i * Kp;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(oi + k),
                          ToBf16x16(_mm512_loadu_ps(xi + k)));
    for (; k < K; ++k) oi[k] = ActivationToBf16(xi[k]);
    for (; k < Kp; ++k) oi[k] = 0;
  }
}

// vdpbf16ps emulated with two FMAs and the output flush (AVX-512F).
QEFF_AVX512 inline __m512 FlushDenormal16(__m512 v) {
  const __mmask16 tiny =
      _mm512_cmp_ps_mask(_mm512_abs_ps(v), _mm512_set1_ps(FLT_MIN), _CMP_LT_OQ);
  return _mm512_mask_and_ps(v, tiny, v, _mm512_set1_ps(-0.0f));
}

// acc[i][p] (c: rows of kItemFeat floats) += the pair chain over pairs kp
// < n of panel p's 16 features at kp and row i's pair at kp (x: bf16 rows
// of ldx pairs). kEmul: the AVX-512F emulation, for hosts without BF16 (its
// instantiation uses no BF16 instruction, though it carries the target).
template <int NI, int NP, bool kEmul>
QEFF_AVX512_BF16 void MicroBf16(int64_t n, const uint16_t* x, int64_t ldx,
                                const uint8_t* w, int64_t pstride, float* c) {
  constexpr bool kStream = NI <= kStreamRows;
  __m512 acc[NI][NP];
  LoadTile(acc, c, kItemFeat);
  const __m512i odd_mask = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
  for (int64_t kp = 0; kp < n; ++kp) {
    __m512i wv[NP];
    QEFF_UNROLL
    for (int p = 0; p < NP; ++p) {
      const uint8_t* wp = w + p * pstride + kp * 64;
      if (kStream)
        _mm_prefetch(reinterpret_cast<const char*>(wp) + kPrefetch,
                     _MM_HINT_T0);
      wv[p] = _mm512_loadu_si512(wp);
    }
    QEFF_UNROLL
    for (int i = 0; i < NI; ++i) {
      int32_t pair;
      std::memcpy(&pair, x + 2 * (i * ldx + kp), 4);
      __m512i xb = _mm512_set1_epi32(pair);
      __asm__("" : "+v"(xb));
      if constexpr (!kEmul) {
        QEFF_UNROLL
        for (int p = 0; p < NP; ++p)
          acc[i][p] =
              _mm512_dpbf16_ps(acc[i][p], (__m512bh)wv[p], (__m512bh)xb);
      } else {
        const __m512 xo = _mm512_castsi512_ps(_mm512_and_si512(xb, odd_mask));
        const __m512 xe = _mm512_castsi512_ps(_mm512_slli_epi32(xb, 16));
        QEFF_UNROLL
        for (int p = 0; p < NP; ++p) {
          const __m512 wo =
              _mm512_castsi512_ps(_mm512_and_si512(wv[p], odd_mask));
          const __m512 we = _mm512_castsi512_ps(_mm512_slli_epi32(wv[p], 16));
          acc[i][p] = FlushDenormal16(_mm512_fmadd_ps(wo, xo, acc[i][p]));
          acc[i][p] = FlushDenormal16(_mm512_fmadd_ps(we, xe, acc[i][p]));
        }
      }
    }
  }
  StoreTile(acc, c, kItemFeat);
}

template <bool kEmul>
struct Bf16Tile {
  template <int NI, int NP>
  static constexpr auto fn = MicroBf16<NI, NP, kEmul>;
};

// Panels [p0, p0 + np) of y = x W^T (+ bias); xb: the rows' bf16 values
// [M, 2 * pairs].
void RunBf16Item(const LinearArgs& a, const uint16_t* xb, int64_t pairs,
                 int64_t p0, int np, bool emulate) {
  const int64_t pstride = pairs * 64;
  const uint8_t* w0 = a.w + p0 * pstride;
  thread_local std::vector<float> acc;
  acc.assign(a.M * kItemFeat, 0.0f);
  const int64_t chunk = a.M <= kNI ? pairs : kPairsPerChunk;
  for (int64_t c0 = 0; c0 < pairs; c0 += chunk) {
    const int64_t n = std::min(chunk, pairs - c0);
    for (int64_t i0 = 0; i0 < a.M; i0 += kNI) {
      const int ni = static_cast<int>(std::min<int64_t>(kNI, a.M - i0));
      (emulate ? PickTile<Bf16Tile<true>, kNI, kPanelsPerItem>(ni, np)
               : PickTile<Bf16Tile<false>, kNI, kPanelsPerItem>(ni, np))(
          n, xb + 2 * (i0 * pairs + c0), pairs, w0 + c0 * 64, pstride,
          acc.data() + i0 * kItemFeat);
    }
  }
  StoreItem(a, acc.data(), 16 * p0, std::min(a.N, 16 * (p0 + np)));
}
#endif  // __x86_64__

void RunPortable(const LinearArgs& a, const uint16_t* xb, int64_t Kp) {
  const int64_t P = (a.N + 15) / 16, pairs = Kp / 2;
  ParallelFor(P, 1, [&](int64_t pb, int64_t pe) {
    std::vector<uint16_t> w(Kp);
    for (int64_t p = pb; p < pe; ++p) {
      const uint8_t* panel = a.w + p * pairs * 64;
      for (int64_t j = 16 * p; j < std::min(a.N, 16 * (p + 1)); ++j) {
        const int l = static_cast<int>(j - 16 * p);
        for (int64_t kp = 0; kp < pairs; ++kp)
          std::memcpy(&w[2 * kp], panel + kp * 64 + 4 * l, 4);
        for (int64_t i = 0; i < a.M; ++i) {
          const float r = PairChain(w.data(), xb + i * Kp, pairs);
          a.y[i * a.N + j] = a.bias ? r + a.bias[j] : r;
        }
      }
    }
  });
}

}  // namespace

uint16_t ActivationToBf16(float v) { return FlushBf16(ir::FloatToBFloat16(v)); }

int64_t PackedK(DType dtype, int64_t K) {
  return dtype == DType::kBF16 ? K + (K & 1) : K;
}

ir::Tensor PackBf16Pairs(const ir::Tensor& w) {
  const int64_t N = w.dims()[0], K = w.dims()[1], P = (N + 15) / 16;
  const int64_t Kp = PackedK(DType::kBF16, K);
  ir::Tensor out = ir::Tensor::Zeros(DType::kBF16, {P, Kp, 16});
  const uint8_t* src = w.raw();  // (a checkpoint's window: any alignment)
  uint16_t* dst = out.mutable_data<uint16_t>();
  for (int64_t j = 0; j < N; ++j) {
    const int64_t p = j / 16, l = j % 16;
    for (int64_t k = 0; k < K; ++k) {
      uint16_t h;
      std::memcpy(&h, src + 2 * (j * K + k), 2);
      dst[((p * Kp / 2 + k / 2) * 16 + l) * 2 + (k & 1)] = FlushBf16(h);
    }
  }
  return out;
}

void LinearBf16Spec(const LinearArgs& a, const uint16_t* w) {
  const int64_t Kp = PackedK(DType::kBF16, a.K);
  std::vector<uint16_t> wr(Kp, 0), xr(Kp, 0);
  for (int64_t i = 0; i < a.M; ++i)
    for (int64_t j = 0; j < a.N; ++j) {
      for (int64_t k = 0; k < a.K; ++k) {
        wr[k] = FlushBf16(w[j * a.K + k]);
        xr[k] = ActivationToBf16(a.x[i * a.K + k]);
      }
      const float r = PairChain(wr.data(), xr.data(), Kp / 2);
      a.y[i * a.N + j] = a.bias ? r + a.bias[j] : r;
    }
}

#if defined(__x86_64__)
bool HasAvx512Bf16() {
  static const bool has = HasAvx512() && __builtin_cpu_supports("avx512bf16");
  return has;
}
#endif

void LinearPackedBf16(const LinearArgs& a, Bf16Path path) {
  const int64_t Kp = PackedK(DType::kBF16, a.K), pairs = Kp / 2;
  // The activations once per call, in the calling thread's buffer (the
  // workers see it through xb).
  thread_local std::vector<uint16_t> buffer;
  buffer.resize(std::max<int64_t>(1, a.M * Kp));
  uint16_t* xb = buffer.data();
#if defined(__x86_64__)
  const bool dp =
      HasAvx512Bf16() && (path == Bf16Path::kBest || path == Bf16Path::kDpbf16);
  const bool simd =
      dp ||
      (HasAvx512() && (path == Bf16Path::kBest || path == Bf16Path::kEmulated));
  const int64_t rgrain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, Kp));
  ParallelFor(a.M, rgrain, [&](int64_t rb, int64_t re) {
    if (simd)
      ConvertRowsAvx512(a.x, a.K, Kp, rb, re, xb);
    else
      ConvertRowsPortable(a.x, a.K, Kp, rb, re, xb);
  });
  if (simd) {
    ForPanelItems(a.N, [&](int64_t p, int np) {
      RunBf16Item(a, xb, pairs, p, np, /*emulate=*/!dp);
    });
    return;
  }
#else
  (void)path;
  ConvertRowsPortable(a.x, a.K, Kp, 0, a.M, xb);
#endif
  RunPortable(a, xb, Kp);
}

}  // namespace qeff::hw::cpu::linear
