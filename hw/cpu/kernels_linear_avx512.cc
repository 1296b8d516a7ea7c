// Linear on f32 / f16 / bf16 / K-quant / MX weights, AVX-512 (16-lane)
// path (linear_internal.h). Built for x86-64-v3 like the rest of the
// driver: the functions here carry target attributes and run only when
// HasAvx512() says so at run time.
//
// "Lanes = features": a (row i, feature j) result is one f32 FMA chain
// acc = fma(w[j][k], x[i][k], acc) over k ascending from acc = 0, plus the
// bias — whatever M, the tiling or the thread count (batch-invariant; the
// scalar specification is LinearFloatSpec).
//
// Work item: up to kPanelsPerItem panels of 16 output features. Per chunk
// of K (kKc values, or one quantized block if larger) the item's weight
// rows are decoded exactly (f16/bf16 conversion, ir::DequantizeBlock; f32
// read in place) and transposed in registers into panels [k][16 features]
// that stay in L1; then input rows go through the panels in tiles of kNI
// (a register-blocked outer-product micro-kernel: kNI x panels zmm
// accumulators, each weight vector loaded once per k and each input value
// broadcast once), the accumulators carried across chunks in a small
// buffer (f32 stored and reloaded: the chain is unchanged).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "hw/cpu/kernels.h"
#include "hw/cpu/linear_internal.h"
#include "hw/cpu/micro_tile.h"
#include "ir/quant.h"
#include "oneapi/tbb/task_arena.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qeff::hw::cpu::linear {

void LinearFloatSpec(const LinearArgs& a, const float* w) {
  for (int64_t i = 0; i < a.M; ++i)
    for (int64_t j = 0; j < a.N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < a.K; ++k)
        acc = std::fma(w[j * a.K + k], a.x[i * a.K + k], acc);
      a.y[i * a.N + j] = a.bias ? acc + a.bias[j] : acc;
    }
}

#if defined(__x86_64__)
namespace {

using ir::DType;
using ir::QuantFormat;

#define QEFF_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

constexpr int kNI = 6;               // input rows per micro-tile
constexpr int64_t kKc = 128;         // K values per packed chunk (L1)
constexpr int64_t kStreamRows = 4;   // M up to this: the decode loop order
constexpr int64_t kPrefetch = 1024;  // bytes ahead in streamed weights

// ---- The micro-kernel, over panels [k][16] of f32 (0) or f16 (1): the
// compiler's packed weights, or panels packed per call (below). (Packed
// bf16 weights run kernels_linear_bf16.cc.)
template <int DT>
QEFF_AVX512 inline __m512 LoadPanel(const uint8_t* p) {
  if (DT == 0) return _mm512_loadu_ps(reinterpret_cast<const float*>(p));
  return _mm512_cvtph_ps(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// acc[i][p] (c: rows of kItemFeat floats) += the chain over k < len of
// panel p's 16 weights at k times x[i][k]. Few rows (decode): the panels
// stream from memory, fetched kPrefetch bytes ahead.
template <int DT, int NI, int NP>
QEFF_AVX512 void MicroPacked(int64_t len, const float* x, int64_t ldx,
                             const uint8_t* w, int64_t pstride, float* c) {
  constexpr int64_t kStep = DT == 0 ? 64 : 32;  // bytes per k per panel
  constexpr bool kStream = NI <= kStreamRows;
  __m512 acc[NI][NP];
  LoadTile(acc, c, kItemFeat);
  for (int64_t k = 0; k < len; ++k) {
    __m512 wv[NP];
    QEFF_UNROLL
    for (int p = 0; p < NP; ++p) {
      const uint8_t* wp = w + p * pstride + k * kStep;
      if (kStream && (DT == 0 || (k & 1) == 0))
        _mm_prefetch(reinterpret_cast<const char*>(wp) + kPrefetch,
                     _MM_HINT_T0);
      wv[p] = LoadPanel<DT>(wp);
    }
    QEFF_UNROLL
    for (int i = 0; i < NI; ++i) {
      __m512 xb = _mm512_set1_ps(x[i * ldx + k]);
      __asm__("" : "+v"(xb));
      QEFF_UNROLL
      for (int p = 0; p < NP; ++p)
        acc[i][p] = _mm512_fmadd_ps(wv[p], xb, acc[i][p]);
    }
  }
  StoreTile(acc, c, kItemFeat);
}

template <int DT>
struct PackedTile {
  template <int NI, int NP>
  static constexpr auto fn = MicroPacked<DT, NI, NP>;
};
auto PickPacked(DType dt, int ni, int np) {
  if (dt == DType::kF16)
    return PickTile<PackedTile<1>, kNI, kPanelsPerItem>(ni, np);
  return PickTile<PackedTile<0>, kNI, kPanelsPerItem>(ni, np);
}

// Transposes 16 rows of 16 floats (r[l] = row l) into r[k] = column k.
QEFF_AVX512 inline void Transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]),
                  b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]),
                  d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // r[4q + s] now holds, in each 128-bit lane L, column (4L + s) of rows
  // 4q .. 4q + 3.
  for (int s = 0; s < 4; ++s) {
    t[s] = _mm512_shuffle_f32x4(r[s], r[4 + s], 0x88);
    t[4 + s] = _mm512_shuffle_f32x4(r[s], r[4 + s], 0xdd);
    t[8 + s] = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0x88);
    t[12 + s] = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0xdd);
  }
  for (int s = 0; s < 4; ++s) {
    r[s] = _mm512_shuffle_f32x4(t[s], t[8 + s], 0x88);
    r[8 + s] = _mm512_shuffle_f32x4(t[s], t[8 + s], 0xdd);
    r[4 + s] = _mm512_shuffle_f32x4(t[4 + s], t[12 + s], 0x88);
    r[12 + s] = _mm512_shuffle_f32x4(t[4 + s], t[12 + s], 0xdd);
  }
}

// 16 values of a weight row at value v as floats (f32, f16 or bf16 row).
QEFF_AVX512 inline __m512 Load16(DType dt, const uint8_t* row, int64_t v) {
  if (dt == DType::kF32)
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + v);
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
      reinterpret_cast<const uint16_t*>(row) + v));
  if (dt == DType::kF16) return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Packs values [v0, v0 + len) of weight rows [j0, j0 + nf) (nf <= 16) into
// panel[k * 16 + l] = w[j0 + l][v0 + k] (rows past nf: zero). Quantized
// rows are first dequantized into `rows` (16 x len floats). `stream`:
// the rows come from memory once (decode), so fetch each kPrefetch bytes
// ahead.
QEFF_AVX512 void PackPanel(const LinearArgs& a, int64_t j0, int nf, int64_t v0,
                           int64_t len, float* rows, float* panel,
                           bool stream) {
  const uint8_t* src[16];
  DType dt = a.dtype;
  int64_t off = v0;
  if (a.quant != QuantFormat::kNone) {
    for (int l = 0; l < nf; ++l) {
      const uint8_t* row = a.w + (j0 + l) * a.row_bytes;
      for (int64_t b = 0; b < len; b += a.block)
        ir::DequantizeBlock(a.quant, row + (v0 + b) / a.block * a.block_bytes,
                            rows + l * len + b)
            .IgnoreError();
      src[l] = reinterpret_cast<const uint8_t*>(rows + l * len);
    }
    dt = DType::kF32;
    off = 0;
    stream = false;
  } else {
    for (int l = 0; l < nf; ++l) src[l] = a.w + (j0 + l) * a.row_bytes;
  }
  const int64_t esize = ir::DTypeSize(dt);
  for (int64_t k = 0; k < len; k += 16) {
    __m512 r[16];
    for (int l = 0; l < 16; ++l) {
      if (l < nf) {
        // Past the row end it is the next row (prefetch never faults).
        if (stream && ((off + k) * esize) % 64 == 0)
          _mm_prefetch(reinterpret_cast<const char*>(src[l]) +
                           (off + k) * esize + kPrefetch,
                       _MM_HINT_T0);
        r[l] = Load16(dt, src[l], off + k);
      } else {
        r[l] = _mm512_setzero_ps();
      }
    }
    Transpose16(r);
    for (int c = 0; c < 16; ++c) _mm512_storeu_ps(panel + (k + c) * 16, r[c]);
  }
}

// Features [jb, je) (at most kItemFeat) of y = x W^T (+ bias).
void RunItem(const LinearArgs& a, int64_t jb, int64_t je) {
  const int64_t nf = je - jb;
  const int np = static_cast<int>((nf + 15) / 16);
  const int64_t kc =
      a.quant != QuantFormat::kNone ? std::max(kKc, a.block) : kKc;
  thread_local std::vector<float> acc, panel, rows;
  acc.assign(a.M * kItemFeat, 0.0f);
  panel.resize(kPanelsPerItem * kc * 16);
  if (a.quant != QuantFormat::kNone) rows.resize(16 * kc);
  auto nf_of = [&](int p) {
    return static_cast<int>(std::min<int64_t>(16, nf - 16 * p));
  };
  if (a.M <= kStreamRows) {
    // Decode: one panel of 16 weight rows at a time over the whole K (16
    // sequential streams), each chunk used at once by the few rows.
    for (int p = 0; p < np; ++p)
      for (int64_t v0 = 0; v0 < a.K; v0 += kc) {
        const int64_t len = std::min(kc, a.K - v0);
        PackPanel(a, jb + 16 * p, nf_of(p), v0, len, rows.data(), panel.data(),
                  /*stream=*/true);
        PickPacked(DType::kF32, static_cast<int>(a.M), 1)(
            len, a.x + v0, a.K, reinterpret_cast<const uint8_t*>(panel.data()),
            len * 64, acc.data() + 16 * p);
      }
  } else {
    // Prefill: all the item's panels per chunk (L1), then every row tile.
    for (int64_t v0 = 0; v0 < a.K; v0 += kc) {
      const int64_t len = std::min(kc, a.K - v0);
      for (int p = 0; p < np; ++p)
        PackPanel(a, jb + 16 * p, nf_of(p), v0, len, rows.data(),
                  panel.data() + p * len * 16, /*stream=*/false);
      for (int64_t i0 = 0; i0 < a.M; i0 += kNI) {
        const int ni = static_cast<int>(std::min<int64_t>(kNI, a.M - i0));
        PickPacked(DType::kF32, ni, np)(
            len, a.x + i0 * a.K + v0, a.K,
            reinterpret_cast<const uint8_t*>(panel.data()), len * 64,
            acc.data() + i0 * kItemFeat);
      }
    }
  }
  StoreItem(a, acc.data(), jb, je);
}

// Panels [p0, p0 + np) (np <= kPanelsPerItem) of y = x W^T (+ bias).
void RunPackedItem(const LinearArgs& a, int64_t p0, int np) {
  const int64_t esize = ir::DTypeSize(a.dtype);
  const int64_t pstride = a.K * 16 * esize;
  const uint8_t* w0 = a.w + p0 * pstride;
  thread_local std::vector<float> acc;
  acc.assign(a.M * kItemFeat, 0.0f);
  // Prefill: chunks of K whose panels stay in L1 for every row tile;
  // decode (one row tile): the whole K at once.
  const int64_t kc = a.M <= kNI ? a.K : kKc;
  for (int64_t v0 = 0; v0 < a.K; v0 += kc) {
    const int64_t len = std::min(kc, a.K - v0);
    for (int64_t i0 = 0; i0 < a.M; i0 += kNI) {
      const int ni = static_cast<int>(std::min<int64_t>(kNI, a.M - i0));
      PickPacked(a.dtype, ni, np)(len, a.x + i0 * a.K + v0, a.K,
                                  w0 + v0 * 16 * esize, pstride,
                                  acc.data() + i0 * kItemFeat);
    }
  }
  StoreItem(a, acc.data(), 16 * p0, std::min(a.N, 16 * (p0 + np)));
}

}  // namespace

bool FloatAvx512Applies(const LinearArgs& a) {
  if (!HasAvx512() || a.K % 16 != 0) return false;
  if (a.quant != QuantFormat::kNone)
    return a.block % 16 == 0 && (kKc % a.block == 0 || a.block % kKc == 0);
  return a.dtype == DType::kF32 || a.dtype == DType::kF16 ||
         a.dtype == DType::kBF16;
}

void LinearFloatAvx512(const LinearArgs& a) {
  ForPanelItems(a.N, [&](int64_t p, int np) {
    RunItem(a, 16 * p, std::min(a.N, 16 * (p + np)));
  });
}

void LinearPackedAvx512(const LinearArgs& a) {
  if (a.dtype == DType::kBF16) return LinearPackedBf16(a, Bf16Path::kBest);
  ForPanelItems(a.N, [&](int64_t p, int np) { RunPackedItem(a, p, np); });
}

#else  // !__x86_64__

bool FloatAvx512Applies(const LinearArgs&) { return false; }
void LinearFloatAvx512(const LinearArgs&) {}
void LinearPackedAvx512(const LinearArgs& a) { LinearPackedPortable(a); }

#endif

}  // namespace qeff::hw::cpu::linear
