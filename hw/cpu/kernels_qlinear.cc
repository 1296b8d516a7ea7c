// Linear on Q8_0 / Q4_0 / Q4_K weights with int8 activations
// (linear_internal.h).
//
// Specification (the scalar kernel; the VNNI kernel matches it bit for
// bit). Activation row i is quantized in blocks of 32 values: d_x =
// amax / 127, q_x = round-to-even(x / d_x) in [-127, 127]. For output
// feature j and block b the integer dot isum = sum_v q_w q_x is exact
// (int32); the result is the f32 chain
//   acc = 0; for b ascending: acc = fma(f32(isum_b), d_w,b * d_x,b, acc)
// plus the bias. Q4_K is taken per sub-block of 32 values (w = d8 q - m8,
// q in 0..15, ir::Q4KSubBlockScales): isum = sum q q_x and, with xs_b =
// d_x,b * f32(sum_v q_x) of the row's block, the chain per block is
//   acc = fma(f32(isum_b), d8_b * d_x,b, acc); acc = fma(-m8_b, xs_b, acc).
// It depends on that row and weight row only (batch-
// invariant), and the integer part does not depend on the summation order,
// so any layout and tiling computes it exactly.
//
// VNNI kernel: weights are repacked at run time, one panel of 16 features
// by a chunk of blocks at a time, into "lanes = features" vectors: vector
// (b, g) holds, in int32 lane f, the 4 bytes of feature f for values
// 4g..4g+3 of block b (Q4_0: g < 4 the low nibbles of bytes 4g..4g+3 —
// values 4g.., g >= 4 the high nibbles of bytes 4(g-4).. — values 16 +
// 4(g-4)..; both in natural value order). dpbusd multiplies those unsigned
// bytes (Q4_0 u = q + 8, Q8_0 u = q + 128) by the broadcast 4 activation
// bytes; each lane starts at -off * sum(q_x of the block), so after 8 steps
// it holds isum exactly. A register tile of kNI rows x kNJ panels keeps its
// int32 and f32 accumulators in zmm registers.
//
// Small-M (decode) VNNI kernel: repacking would cost as much as the matvec,
// so it reads the original blocks, 16 features x 1 block per step (scales
// collected by scalar loads, Q8_0 weight rows prefetched), dpbusd into 4 int32
// partials per feature, an exact add tree to one lane per feature, then the
// same f32 chain. Parallel over 16-feature blocks (ForFeatureBlocks).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "hw/cpu/kernels.h"
#include "hw/cpu/linear_internal.h"
#include "ir/quant.h"
#include "oneapi/tbb/task_arena.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qeff::hw::cpu::linear {
namespace {

using ir::QuantFormat;

// Blocks per packed chunk: 16 blocks x 16 features = 8 KB per panel, a
// kNJ-panel group stays in L1 while every row tile streams over it.
constexpr int64_t kBlocksPerChunk = 16;
constexpr int kNI = 4, kNJ = 2;  // micro tile: rows x 16-feature panels
constexpr int64_t kPanel = 16;   // features per panel
constexpr int64_t kGroup = kNJ * kPanel;  // features per work item
// Rows up to which QPath::kVnni reads the original blocks directly (no
// per-call repacking), measured with //hw/cpu:kernels_linear_bench (2-core
// EPYC: direct clearly faster at M = 1, even at 2..3, slower from 4).
constexpr int64_t kDirectMaxM = 3;

// Quantized activation rows: xq [M][K] int8 (natural order), corr [M][nb]
// int32 (-off * block sum), dx [M][nb] f32.
struct QAct {
  std::vector<int8_t> xq;
  std::vector<int32_t> corr;
  std::vector<float> dx;
  std::vector<float> xs;  // dx * f32(block sum of q_x) (Q4_K's mins)
};

constexpr int64_t kQ4KBytes = 144;
// Sub-block b (32 values) of a Q4_K row: the offset of its 32 quant bytes
// (low nibbles for even b % 8, high for odd).
inline int64_t Q4KQsOffset(int64_t b) {
  return (b / 8) * kQ4KBytes + 16 + 32 * ((b % 8) / 2);
}

inline void BlockScale(float amax, float* d, float* id) {
  *d = amax / 127.0f;
  *id = *d > 0.0f ? 1.0f / *d : 0.0f;
}

inline int8_t QuantValue(float v, float id) {
  float r = std::nearbyint(v * id);
  if (!(r == r)) r = 0.0f;
  r = std::min(127.0f, std::max(-127.0f, r));
  return static_cast<int8_t>(r);
}

void QuantizeRowScalar(int32_t off, const float* x, int64_t K, int8_t* xq,
                       int32_t* corr, float* dx, float* xs) {
  for (int64_t b = 0; b < K / 32; ++b) {
    float amax = 0.0f;
    for (int v = 0; v < 32; ++v)
      amax = std::max(amax, std::fabs(x[32 * b + v]));
    float id;
    BlockScale(amax, &dx[b], &id);
    int32_t s = 0;
    for (int v = 0; v < 32; ++v) {
      xq[32 * b + v] = QuantValue(x[32 * b + v], id);
      s += xq[32 * b + v];
    }
    corr[b] = -off * s;
    xs[b] = dx[b] * static_cast<float>(s);
  }
}

inline float BlockD(const uint8_t* blk) {
  uint16_t h;
  std::memcpy(&h, blk, 2);
  return ir::HalfToFloat(h);
}

// The specification: features [jb, je) of rows [0, M).
void RunScalar(const LinearArgs& a, const QAct& qa, int64_t jb, int64_t je) {
  const bool q4 = a.quant == QuantFormat::kQ4_0;
  const int64_t nb = a.K / 32;
  if (a.quant == QuantFormat::kQ4_K) {
    for (int64_t j = jb; j < je; ++j) {
      const uint8_t* row = a.w + j * a.row_bytes;
      for (int64_t i = 0; i < a.M; ++i) {
        const int8_t* xq = qa.xq.data() + i * a.K;
        float acc = 0.0f, d8[8], m8[8];
        for (int64_t b = 0; b < nb; ++b) {
          if (b % 8 == 0)
            ir::Q4KSubBlockScales(row + b / 8 * kQ4KBytes, d8, m8);
          const uint8_t* qs = row + Q4KQsOffset(b);
          const int shift = (b % 2) * 4;
          int32_t s = 0;
          for (int v = 0; v < 32; ++v)
            s += ((qs[v] >> shift) & 15) * xq[32 * b + v];
          acc = std::fma(static_cast<float>(s), d8[b % 8] * qa.dx[i * nb + b],
                         acc);
          acc = std::fma(-m8[b % 8], qa.xs[i * nb + b], acc);
        }
        a.y[i * a.N + j] = a.bias ? acc + a.bias[j] : acc;
      }
    }
    return;
  }
  for (int64_t j = jb; j < je; ++j) {
    const uint8_t* row = a.w + j * a.row_bytes;
    for (int64_t i = 0; i < a.M; ++i) {
      const int8_t* xq = qa.xq.data() + i * a.K;
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = row + b * a.block_bytes;
        const int8_t* xb = xq + 32 * b;
        int32_t s = 0;
        if (q4) {
          for (int v = 0; v < 16; ++v)
            s += ((blk[2 + v] & 15) - 8) * xb[v] +
                 ((blk[2 + v] >> 4) - 8) * xb[v + 16];
        } else {
          // Signed bytes read as int8_t: GCC 12 at -O3 -march=native
          // vectorizes int8_t(uint8_t) * int8_t sums into a wrong
          // (unsigned) dot product; the VNNI == scalar test catches it.
          const int8_t* qw = reinterpret_cast<const int8_t*>(blk + 2);
          for (int v = 0; v < 32; ++v) s += qw[v] * xb[v];
        }
        const float sc = BlockD(blk) * qa.dx[i * nb + b];
        acc = std::fma(static_cast<float>(s), sc, acc);
      }
      a.y[i * a.N + j] = a.bias ? acc + a.bias[j] : acc;
    }
  }
}

#if defined(__x86_64__)
#define QEFF_VNNI \
  __attribute__(( \
      target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,f16c,fma")))

QEFF_VNNI void QuantizeRowVnni(int32_t off, const float* x, int64_t K,
                               int8_t* xq, int32_t* corr, float* dx,
                               float* xs) {
  const __m512 lim = _mm512_set1_ps(127.0f), nlim = _mm512_set1_ps(-127.0f);
  for (int64_t b = 0; b < K / 32; ++b) {
    const __m512 x0 = _mm512_loadu_ps(x + 32 * b);
    const __m512 x1 = _mm512_loadu_ps(x + 32 * b + 16);
    const float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
    float id;
    BlockScale(amax, &dx[b], &id);
    const __m512 vid = _mm512_set1_ps(id);
    const int r = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    __m512 r0 = _mm512_roundscale_ps(_mm512_mul_ps(x0, vid), r);
    __m512 r1 = _mm512_roundscale_ps(_mm512_mul_ps(x1, vid), r);
    r0 = _mm512_min_ps(lim, _mm512_max_ps(nlim, r0));
    r1 = _mm512_min_ps(lim, _mm512_max_ps(nlim, r1));
    const __m512i i0 = _mm512_cvtps_epi32(r0), i1 = _mm512_cvtps_epi32(r1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + 32 * b),
                     _mm512_cvtsepi32_epi8(i0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + 32 * b + 16),
                     _mm512_cvtsepi32_epi8(i1));
    const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
    corr[b] = -off * sum;
    xs[b] = dx[b] * static_cast<float>(sum);
  }
}

// 16 rows (p[f] + 16 bytes each) as 4 "lanes = rows" vectors: out[g] lane f
// = dword g of row f.
QEFF_VNNI inline void Transpose16x4(const uint8_t* const* p, __m512i* out) {
  __m512i z[4];
  auto ld = [p](int f) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[f]));
  };
  for (int q = 0; q < 4; ++q) {
    __m512i v = _mm512_zextsi128_si512(ld(q));
    v = _mm512_inserti32x4(v, ld(4 + q), 1);
    v = _mm512_inserti32x4(v, ld(8 + q), 2);
    z[q] = _mm512_inserti32x4(v, ld(12 + q), 3);
  }
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]);
  const __m512i t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]);
  const __m512i t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// Packs blocks [b0, b0 + nblk) of the 16 feature rows rows[f] into
// u [nblk][8][64 bytes] and dw [nblk][16] (Q4_K: sub-blocks, and their
// mins into mw [nblk][16]).
QEFF_VNNI void PackPanel(QuantFormat fmt, int64_t bb,
                         const uint8_t* const* rows, int64_t b0, int64_t nblk,
                         uint8_t* u, float* dw, float* mw) {
  const bool q4 = fmt == QuantFormat::kQ4_0;
  const __m512i m4 = _mm512_set1_epi8(15);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  if (fmt == QuantFormat::kQ4_K) {
    float d8[16][8], m8[16][8];
    for (int64_t b = 0; b < nblk; ++b) {
      const int64_t sb = b0 + b;
      if (b == 0 || sb % 8 == 0)
        for (int f = 0; f < 16; ++f)
          ir::Q4KSubBlockScales(rows[f] + sb / 8 * kQ4KBytes, d8[f], m8[f]);
      for (int f = 0; f < 16; ++f) {
        dw[16 * b + f] = d8[f][sb % 8];
        mw[16 * b + f] = m8[f][sb % 8];
      }
      const uint8_t* p[16];
      for (int f = 0; f < 16; ++f) p[f] = rows[f] + Q4KQsOffset(sb);
      __m512i* o = reinterpret_cast<__m512i*>(u + 512 * b);
      const int shift = (sb % 2) * 4;
      for (int half = 0; half < 2; ++half) {
        __m512i v[4];
        Transpose16x4(p, v);
        for (int g = 0; g < 4; ++g)
          _mm512_storeu_si512(
              o + 4 * half + g,
              _mm512_and_si512(_mm512_srli_epi16(v[g], shift), m4));
        for (int f = 0; f < 16; ++f) p[f] += 16;
      }
    }
    return;
  }
  for (int64_t b = 0; b < nblk; ++b) {
    const uint8_t* p[16];
    alignas(32) uint16_t h[16];
    for (int f = 0; f < 16; ++f) {
      p[f] = rows[f] + (b0 + b) * bb;
      std::memcpy(&h[f], p[f], 2);
      p[f] += 2;
    }
    _mm512_storeu_ps(dw + 16 * b, _mm512_cvtph_ps(_mm256_load_si256(
                                      reinterpret_cast<const __m256i*>(h))));
    __m512i* o = reinterpret_cast<__m512i*>(u + 512 * b);
    __m512i v[4];
    Transpose16x4(p, v);
    if (q4) {
      for (int g = 0; g < 4; ++g) {
        _mm512_storeu_si512(o + g, _mm512_and_si512(v[g], m4));
        _mm512_storeu_si512(o + 4 + g,
                            _mm512_and_si512(_mm512_srli_epi16(v[g], 4), m4));
      }
    } else {
      for (int g = 0; g < 4; ++g)
        _mm512_storeu_si512(o + g, _mm512_xor_si512(v[g], flip));
      for (int f = 0; f < 16; ++f) p[f] += 16;
      Transpose16x4(p, v);
      for (int g = 0; g < 4; ++g)
        _mm512_storeu_si512(o + 4 + g, _mm512_xor_si512(v[g], flip));
    }
  }
}

// Rows [x0 + i xs], panels [u0 + j us] (dw [dw0 + j us / 32]): nblk blocks
// into acc [i * acc_si + j * 16] (16 f32 per (row, panel)).
template <int NI, int NJ, bool kMins>
QEFF_VNNI void MicroVnni(int64_t nblk, const int8_t* x0, int64_t xs,
                         const int32_t* c0, const float* dx0, const float* xs0,
                         int64_t cs, const uint8_t* u0, int64_t us,
                         const float* dw0, const float* mw0, float* acc,
                         int64_t acc_si) {
  __m512 fa[NI][NJ];
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) {
    QEFF_UNROLL
    for (int j = 0; j < NJ; ++j)
      fa[i][j] = _mm512_loadu_ps(acc + i * acc_si + j * 16);
  }
  const int64_t ds = us / 32;
  for (int64_t b = 0; b < nblk; ++b) {
    __m512i ia[NI][NJ];
    QEFF_UNROLL
    for (int i = 0; i < NI; ++i) {
      const __m512i c = _mm512_set1_epi32(c0[i * cs + b]);
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j) ia[i][j] = c;
    }
    const uint8_t* ub = u0 + 512 * b;
    const int8_t* xb = x0 + 32 * b;
    QEFF_UNROLL
    for (int g = 0; g < 8; ++g) {
      __m512i w[NJ];
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j)
        w[j] = _mm512_loadu_si512(ub + j * us + 64 * g);
      QEFF_UNROLL
      for (int i = 0; i < NI; ++i) {
        int32_t x4;
        std::memcpy(&x4, xb + i * xs + 4 * g, 4);
        const __m512i xv = _mm512_set1_epi32(x4);
        QEFF_UNROLL
        for (int j = 0; j < NJ; ++j)
          ia[i][j] = _mm512_dpbusd_epi32(ia[i][j], w[j], xv);
      }
    }
    __m512 d[NJ];
    QEFF_UNROLL
    for (int j = 0; j < NJ; ++j) d[j] = _mm512_loadu_ps(dw0 + j * ds + 16 * b);
    QEFF_UNROLL
    for (int i = 0; i < NI; ++i) {
      const __m512 dxv = _mm512_set1_ps(dx0[i * cs + b]);
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j)
        fa[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[i][j]),
                                   _mm512_mul_ps(d[j], dxv), fa[i][j]);
    }
    if (kMins) {
      __m512 m[NJ];
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j)
        m[j] = _mm512_loadu_ps(mw0 + j * ds + 16 * b);
      QEFF_UNROLL
      for (int i = 0; i < NI; ++i) {
        const __m512 xsv = _mm512_set1_ps(xs0[i * cs + b]);
        QEFF_UNROLL
        for (int j = 0; j < NJ; ++j)
          fa[i][j] = _mm512_fnmadd_ps(m[j], xsv, fa[i][j]);
      }
    }
  }
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) {
    QEFF_UNROLL
    for (int j = 0; j < NJ; ++j)
      _mm512_storeu_ps(acc + i * acc_si + j * 16, fa[i][j]);
  }
}

using MicroFn = void (*)(int64_t, const int8_t*, int64_t, const int32_t*,
                         const float*, const float*, int64_t, const uint8_t*,
                         int64_t, const float*, const float*, float*, int64_t);
template <int NI, bool M>
MicroFn PickJ(int nj) {
  return nj == 1 ? MicroVnni<NI, 1, M> : MicroVnni<NI, 2, M>;
}
template <bool M>
MicroFn PickNI(int ni, int nj) {
  switch (ni) {
    case 1:
      return PickJ<1, M>(nj);
    case 2:
      return PickJ<2, M>(nj);
    case 3:
      return PickJ<3, M>(nj);
    default:
      return PickJ<kNI, M>(nj);
  }
}
MicroFn PickVnni(int ni, int nj, bool mins) {
  return mins ? PickNI<true>(ni, nj) : PickNI<false>(ni, nj);
}

// Features [jb, je) (at most kGroup) for all rows.
void RunGroupVnni(const LinearArgs& a, const QAct& qa, int64_t jb, int64_t je) {
  const bool mins = a.quant == QuantFormat::kQ4_K;
  const int64_t nb = a.K / 32, nf = je - jb;
  const int np = static_cast<int>((nf + kPanel - 1) / kPanel);
  thread_local std::vector<float> acc;
  thread_local std::vector<uint8_t> ubuf;
  thread_local std::vector<float> dbuf, mbuf;
  const int64_t acc_si = kGroup;
  acc.assign(a.M * acc_si, 0.0f);
  // Few rows (decode): the whole K is packed at once (one pass over the
  // weight rows); many rows: chunks of kBlocksPerChunk stay in L1 for every
  // row tile. Neither changes a result (acc carries the f32 chain).
  const int64_t chunk = a.M <= kNI ? nb : kBlocksPerChunk;
  const int64_t us = 512 * chunk;  // bytes per panel in ubuf
  ubuf.resize(kNJ * us);
  dbuf.resize(kNJ * 16 * chunk);
  if (mins) mbuf.resize(kNJ * 16 * chunk);
  const uint8_t* rows[kNJ][16];
  for (int j = 0; j < np; ++j)
    for (int f = 0; f < 16; ++f)  // padding lanes repeat the last feature
      rows[j][f] =
          a.w + (jb + std::min<int64_t>(j * 16 + f, nf - 1)) * a.row_bytes;
  for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
    const int64_t nblk = std::min(chunk, nb - b0);
    for (int j = 0; j < np; ++j)
      PackPanel(a.quant, a.block_bytes, rows[j], b0, nblk, ubuf.data() + j * us,
                dbuf.data() + j * 16 * chunk,
                mins ? mbuf.data() + j * 16 * chunk : nullptr);
    for (int64_t i0 = 0; i0 < a.M; i0 += kNI) {
      const int ni = static_cast<int>(std::min<int64_t>(kNI, a.M - i0));
      PickVnni(ni, np, mins)(
          nblk, qa.xq.data() + i0 * a.K + 32 * b0, a.K,
          qa.corr.data() + i0 * nb + b0, qa.dx.data() + i0 * nb + b0,
          qa.xs.data() + i0 * nb + b0, nb, ubuf.data(), us, dbuf.data(),
          mins ? mbuf.data() : nullptr, acc.data() + i0 * acc_si, acc_si);
    }
  }
  for (int64_t i = 0; i < a.M; ++i)
    for (int64_t f = 0; f < nf; ++f) {
      const float r = acc[i * acc_si + f];
      a.y[i * a.N + jb + f] = a.bias ? r + a.bias[jb + f] : r;
    }
}

// ---- Small M (decode): the same arithmetic straight from the original
// blocks, no repacking. Per block, 16 features are loaded as 4 vectors of 4
// features (vector v, 128-bit lane k: 16 bytes of feature 4k + v; "lo" for
// values 0..15 and "hi" for values 16..31, unsigned as in the packed
// kernel). Two dpbusd against the broadcast activation halves leave 4 int32
// partials per feature, and a fixed add tree (exact integers) reduces them
// so that output lane f is feature f.
constexpr int64_t kDirectMaxRows = 4;  // rows per pass over the weights

QEFF_VNNI inline __m512i Load4(const uint8_t* const* r, int64_t o) {
  __m512i z = _mm512_castsi128_si512(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[0] + o)));
  z = _mm512_inserti32x4(
      z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[4] + o)), 1);
  z = _mm512_inserti32x4(
      z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[8] + o)), 2);
  return _mm512_inserti32x4(
      z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r[12] + o)), 3);
}

QEFF_VNNI inline __m512i Reduce4(const __m512i* s) {
  const __m512i q0 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[0], s[1]),
                                      _mm512_unpackhi_epi32(s[0], s[1]));
  const __m512i q1 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2], s[3]),
                                      _mm512_unpackhi_epi32(s[2], s[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(q0, q1),
                          _mm512_unpackhi_epi64(q0, q1));
}

// The exact integer dots of one 32-value activation block xb with 16
// features (lo/hi as loaded by Load4: values 0..15 and 16..31), lane f =
// feature f.
QEFF_VNNI inline __m512i BlockDot16(const int8_t* xb, const __m512i* lo,
                                    const __m512i* hi) {
  const __m512i xl = _mm512_broadcast_i32x4(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb)));
  const __m512i xh = _mm512_broadcast_i32x4(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb + 16)));
  __m512i s[4];
  for (int v = 0; v < 4; ++v)
    s[v] = _mm512_dpbusd_epi32(
        _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[v], xl), hi[v], xh);
  return Reduce4(s);
}

// The sub-block scales of one Q4_K block (at byte o) of 16 rows as
// "lanes = rows": d8[s][f] = d * scale_s and m8[s][f] = dmin * min_s of row
// f, the values ir::Q4KSubBlockScales gives (the same f32 products).
QEFF_VNNI void Q4KScales16(const uint8_t* const* rows, int64_t o,
                           float (*d8)[16], float (*m8)[16]) {
  const uint8_t* p[16];
  for (int f = 0; f < 16; ++f) p[f] = rows[f] + o;
  __m512i w[4];  // d|dmin, scales[0..3], scales[4..7], scales[8..11]
  Transpose16x4(p, w);
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(w[0]));
  const __m512 dmin =
      _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(w[0], 16)));
  const __m512i k63 = _mm512_set1_epi32(63), k15 = _mm512_set1_epi32(15);
  for (int s = 0; s < 4; ++s) {
    const __m512i q0 = _mm512_srli_epi32(w[1], 8 * s);  // byte s
    const __m512i q4 = _mm512_srli_epi32(w[2], 8 * s);  // byte s + 4
    const __m512i q8 = _mm512_srli_epi32(w[3], 8 * s);  // byte s + 8
    const __m512i sc_lo = _mm512_and_si512(q0, k63);
    const __m512i m_lo = _mm512_and_si512(q4, k63);
    // s + 4: (q[s+8] & 15) | (q[s] >> 6) << 4; (q[s+8] >> 4) | (q[s+4] >> 6) <<
    // 4
    const __m512i hi2 = _mm512_set1_epi32(3);
    const __m512i sc_hi = _mm512_or_si512(
        _mm512_and_si512(q8, k15),
        _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(q0, 6), hi2), 4));
    const __m512i m_hi = _mm512_or_si512(
        _mm512_and_si512(_mm512_srli_epi32(q8, 4), k15),
        _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(q4, 6), hi2), 4));
    _mm512_store_ps(d8[s], _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc_lo)));
    _mm512_store_ps(m8[s], _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m_lo)));
    _mm512_store_ps(d8[s + 4], _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc_hi)));
    _mm512_store_ps(m8[s + 4], _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m_hi)));
  }
}

// Rows [i0, i0 + NI), features [jb, je) (at most 16). kFmt: 0 Q8_0, 1
// Q4_0, 2 Q4_K (per sub-block; scales and mins decoded per 256 values).
template <int NI, int kFmt>
QEFF_VNNI void DirectVnni(const LinearArgs& a, const QAct& qa, int64_t i0,
                          int64_t jb, int64_t je) {
  constexpr bool Q4 = kFmt == 1, Q4K = kFmt == 2;
  const int64_t nb = a.K / 32, nf = je - jb, bb = a.block_bytes;
  const uint8_t* base = a.w + jb * a.row_bytes;
  const uint8_t* rows[16];
  for (int f = 0; f < 16; ++f)  // padding lanes repeat the last feature
    rows[f] = base + std::min<int64_t>(f, nf - 1) * a.row_bytes + (Q4K ? 0 : 2);
  alignas(64) float d8[8][16], m8[8][16];
  const __m512i m4 = _mm512_set1_epi8(15);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const int64_t pf = 16 * bb;  // prefetch distance, bytes
  __m512 fa[NI];
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) fa[i] = _mm512_setzero_ps();
  const int8_t* xq = qa.xq.data() + i0 * a.K;
  const int32_t* corr = qa.corr.data() + i0 * nb;
  const float* dx = qa.dx.data() + i0 * nb;
  // d_w of the 16 features for kDChunk blocks, gathered by scalar loads
  // ahead of use (a vector gather is much slower on some cores).
  constexpr int64_t kDChunk = 16;
  alignas(64) uint16_t dh[kDChunk][16];
  const float* xs = qa.xs.data() + i0 * nb;
  for (int64_t b = 0; b < nb; ++b) {
    if (Q4K) {
      if (b % 8 == 0) Q4KScales16(rows, b / 8 * kQ4KBytes, d8, m8);
      // Sub-blocks b, b + 1 share their quant bytes (low, high nibbles).
      const int64_t o = Q4KQsOffset(b);
      __m512i z0[4], z1[4];
      for (int v = 0; v < 4; ++v) {
        z0[v] = Load4(rows + v, o);
        z1[v] = Load4(rows + v, o + 16);
      }
      for (int odd = 0; odd < 2; ++odd, ++b) {
        __m512i lo[4], hi[4];
        for (int v = 0; v < 4; ++v) {
          lo[v] = _mm512_and_si512(_mm512_srli_epi16(z0[v], 4 * odd), m4);
          hi[v] = _mm512_and_si512(_mm512_srli_epi16(z1[v], 4 * odd), m4);
        }
        const __m512 d = _mm512_load_ps(d8[b % 8]);
        const __m512 m = _mm512_load_ps(m8[b % 8]);
        QEFF_UNROLL
        for (int i = 0; i < NI; ++i) {
          fa[i] = _mm512_fmadd_ps(
              _mm512_cvtepi32_ps(BlockDot16(xq + i * a.K + 32 * b, lo, hi)),
              _mm512_mul_ps(d, _mm512_set1_ps(dx[i * nb + b])), fa[i]);
          fa[i] = _mm512_fnmadd_ps(m, _mm512_set1_ps(xs[i * nb + b]), fa[i]);
        }
      }
      --b;  // the loop's ++b moves to the next pair
      continue;
    }
    const int64_t o = b * bb;
    if (b % kDChunk == 0) {
      const int64_t e = std::min(kDChunk, nb - b);
      for (int f = 0; f < 16; ++f)
        for (int64_t c = 0; c < e; ++c)
          std::memcpy(&dh[c][f], rows[f] - 2 + o + c * bb, 2);
    }
    // Q8_0 (34-byte blocks): one prefetch per row per 68 bytes; Q4_0 ran
    // faster without (cpu_vs_llamacpp decode, 2-core EPYC: Q8_0 190 -> 240
    // tok/s with, Q4_0 440 -> 390 with one per 36 or 72 bytes).
    if (!Q4 && (b & 1) == 0)
      for (int f = 0; f < 16; ++f)
        _mm_prefetch(reinterpret_cast<const char*>(rows[f] + o + pf),
                     _MM_HINT_T0);
    __m512i lo[4], hi[4];
    for (int v = 0; v < 4; ++v) {
      if (Q4) {
        const __m512i z = Load4(rows + v, o);
        lo[v] = _mm512_and_si512(z, m4);
        hi[v] = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);
      } else {
        lo[v] = _mm512_xor_si512(Load4(rows + v, o), flip);
        hi[v] = _mm512_xor_si512(Load4(rows + v, o + 16), flip);
      }
    }
    const __m512 d = _mm512_cvtph_ps(
        _mm256_load_si256(reinterpret_cast<const __m256i*>(dh[b % kDChunk])));
    QEFF_UNROLL
    for (int i = 0; i < NI; ++i) {
      const __m512i isum =
          _mm512_add_epi32(BlockDot16(xq + i * a.K + 32 * b, lo, hi),
                           _mm512_set1_epi32(corr[i * nb + b]));
      fa[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum),
                              _mm512_mul_ps(d, _mm512_set1_ps(dx[i * nb + b])),
                              fa[i]);
    }
  }
  const __mmask16 m = static_cast<__mmask16>((1u << nf) - 1);
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) {
    __m512 r = fa[i];
    if (a.bias) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, a.bias + jb));
    _mm512_mask_storeu_ps(a.y + (i0 + i) * a.N + jb, m, r);
  }
}

template <int kFmt>
void RunDirectVnniT(const LinearArgs& a, const QAct& qa, int64_t jb,
                    int64_t je) {
  for (int64_t i0 = 0; i0 < a.M; i0 += kDirectMaxRows) {
    switch (std::min<int64_t>(kDirectMaxRows, a.M - i0)) {
      case 1:
        DirectVnni<1, kFmt>(a, qa, i0, jb, je);
        break;
      case 2:
        DirectVnni<2, kFmt>(a, qa, i0, jb, je);
        break;
      case 3:
        DirectVnni<3, kFmt>(a, qa, i0, jb, je);
        break;
      default:
        DirectVnni<4, kFmt>(a, qa, i0, jb, je);
    }
  }
}

// Features [jb, je) (whole 16-feature groups, the last may be shorter).
void RunDirectVnni(const LinearArgs& a, const QAct& qa, int64_t jb,
                   int64_t je) {
  for (int64_t j = jb; j < je; j += 16) {
    const int64_t e = std::min(je, j + 16);
    if (a.quant == QuantFormat::kQ4_0)
      RunDirectVnniT<1>(a, qa, j, e);
    else if (a.quant == QuantFormat::kQ4_K)
      RunDirectVnniT<2>(a, qa, j, e);
    else
      RunDirectVnniT<0>(a, qa, j, e);
  }
}
#endif

}  // namespace

bool QLinearApplies(const LinearArgs& a) {
  if (a.quant == QuantFormat::kQ4_K) return a.K % 256 == 0;
  return (a.quant == QuantFormat::kQ8_0 || a.quant == QuantFormat::kQ4_0) &&
         a.K % 32 == 0;
}

void LinearQ8Act(const LinearArgs& a, QPath path) {
#if !defined(__x86_64__)
  path = QPath::kScalar;
#endif
  const int32_t off = a.quant == QuantFormat::kQ4_0   ? 8
                      : a.quant == QuantFormat::kQ4_K ? 0
                                                      : 128;
  const int64_t nb = a.K / 32;
  thread_local QAct qa;
  qa.xq.resize(a.M * a.K);
  qa.corr.resize(a.M * nb);
  qa.dx.resize(a.M * nb);
  qa.xs.resize(a.M * nb);
  QAct* q = &qa;
  ParallelFor(a.M, 16, [&](int64_t ib, int64_t ie) {
    for (int64_t i = ib; i < ie; ++i) {
      int8_t* xq = q->xq.data() + i * a.K;
      int32_t* corr = q->corr.data() + i * nb;
      float* dx = q->dx.data() + i * nb;
      float* xs = q->xs.data() + i * nb;
#if defined(__x86_64__)
      if (path == QPath::kVnni) {
        QuantizeRowVnni(off, a.x + i * a.K, a.K, xq, corr, dx, xs);
        continue;
      }
#endif
      QuantizeRowScalar(off, a.x + i * a.K, a.K, xq, corr, dx, xs);
    }
  });
  if (path == QPath::kScalar) {
    ForFeatureBlocks(a.N,
                     [&](int64_t jb, int64_t je) { RunScalar(a, *q, jb, je); });
    return;
  }
#if defined(__x86_64__)
  if (path == QPath::kVnniDirect ||
      (path == QPath::kVnni && a.M <= kDirectMaxM)) {
    ForFeatureBlocks(
        a.N, [&](int64_t jb, int64_t je) { RunDirectVnni(a, *q, jb, je); });
    return;
  }
  // Work items of kGroup features; about 4 per core.
  const int64_t groups = (a.N + kGroup - 1) / kGroup;
  const int64_t conc = std::max(1, tbb::this_task_arena::max_concurrency());
  const int64_t grain = std::max<int64_t>(1, groups / (4 * conc));
  ParallelFor(groups, grain, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g)
      RunGroupVnni(a, *q, g * kGroup, std::min(a.N, (g + 1) * kGroup));
  });
#endif
}

}  // namespace qeff::hw::cpu::linear
