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
// VNNI kernel: weights in the panel layout of linear_internal.h — packed
// once by the cpu compiler (PackQuantPanels), or per call, a chunk of blocks
// at a time, for row weights (MoE experts). Vector g of a quant slot holds
// in int32 lane f 4 bytes of feature f; dpbusd multiplies those unsigned
// bytes (Q4_0 / Q4_K nibbles u = q + 8 / q, Q8_0 u = q + 128) by 4
// broadcast activation bytes; each lane starts at -off * sum(q_x of the
// block), so after the block it holds isum exactly. A register tile of up
// to kNI rows x kNJ panels (decode: 1 row x 4 panels) keeps its int32 and
// f32 accumulators in zmm registers; few rows stream the whole K once,
// many rows take chunks of kBlocksPerChunk blocks that stay in L1.
//
// Small-M (decode) VNNI kernel for row weights: repacking would cost as
// much as the matvec,
// so it reads the original blocks, 16 features x 1 block per step (scales
// collected by scalar loads, Q8_0 weight rows prefetched), dpbusd into 4 int32
// partials per feature, an exact add tree to one lane per feature, then the
// same f32 chain. Parallel over 16-feature blocks (ForFeatureBlocks).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
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

// ---- The panel layout (linear_internal.h): portable packing and unpacking.
constexpr int64_t kScaleSlot = 32;  // scale bytes per block per panel
inline int64_t QuantSlot(QuantFormat f) {
  return f == QuantFormat::kQ8_0 ? 512 : 256;
}
// Bytes per 32-value block of one 16-feature panel.
inline int64_t PanelBlockBytes(QuantFormat f) {
  return kScaleSlot + QuantSlot(f);
}
// Byte c of vector g in a slot, for feature f.
inline int64_t LaneByte(int64_t g, int f, int64_t c) {
  return 64 * g + 4 * f + c;
}

// Blocks [b0, b0 + nblk) of the 16 rows rows[f] (Q4_K: b0, nblk multiples
// of 8) into dst: nblk scale slots, then nblk quant slots.
void PackPanelPortable(QuantFormat fmt, int64_t bb, const uint8_t* const* rows,
                       int64_t b0, int64_t nblk, uint8_t* dst) {
  const int64_t qb = QuantSlot(fmt);
  uint8_t* s = dst;
  uint8_t* u = dst + nblk * kScaleSlot;
  for (int f = 0; f < 16; ++f) {
    for (int64_t b = 0; b < nblk; ++b) {
      const int64_t sb = b0 + b;
      if (fmt == QuantFormat::kQ4_K) {
        if (sb % 8 == 0) {
          const uint8_t* hdr = rows[f] + sb / 8 * kQ4KBytes;
          for (int k = 0; k < 16; ++k)
            s[kScaleSlot * b + LaneByte(k / 4, f, k % 4)] = hdr[k];
        }
        if (sb % 2 == 0) {
          const uint8_t* qs = rows[f] + Q4KQsOffset(sb);
          for (int k = 0; k < 32; ++k)
            u[qb * b + LaneByte(k / 4, f, k % 4)] = qs[k];
        }
        continue;
      }
      const uint8_t* blk = rows[f] + sb * bb;
      s[kScaleSlot * b + 2 * f] = blk[0];
      s[kScaleSlot * b + 2 * f + 1] = blk[1];
      const bool q8 = fmt == QuantFormat::kQ8_0;
      for (int k = 0; k < (q8 ? 32 : 16); ++k)
        u[qb * b + LaneByte(k / 4, f, k % 4)] =
            q8 ? static_cast<uint8_t>(blk[2 + k] ^ 0x80) : blk[2 + k];
    }
  }
}

}  // namespace

bool QPackApplies(QuantFormat quant, int64_t K) {
  if (quant == QuantFormat::kQ4_K) return K > 0 && K % 256 == 0;
  return (quant == QuantFormat::kQ8_0 || quant == QuantFormat::kQ4_0) &&
         K > 0 && K % 32 == 0;
}

ir::Tensor PackQuantPanels(const ir::Tensor& w) {
  const QuantFormat fmt = w.quant();
  const int64_t N = w.dims()[0], K = w.dims()[1], P = (N + 15) / 16;
  const int64_t nb = K / 32, pb = nb * PanelBlockBytes(fmt);
  const ir::QuantBlockInfo qi = ir::QuantInfo(fmt);
  const int64_t row_bytes = K / qi.block_values * qi.block_bytes;
  auto buf = ir::Buffer::Allocate(P * pb);
  const std::vector<uint8_t> zero(row_bytes, 0);
  for (int64_t p = 0; p < P; ++p) {
    const uint8_t* rows[16];
    for (int f = 0; f < 16; ++f)
      rows[f] =
          16 * p + f < N ? w.raw() + (16 * p + f) * row_bytes : zero.data();
    PackPanelPortable(fmt, qi.block_bytes, rows, 0, nb,
                      buf->mutable_data() + p * pb);
  }
  auto t = ir::Tensor::FromQuantized(fmt, w.dtype(), {P, 16, K}, buf);
  QEFF_CHECK(t.ok());
  return *std::move(t);
}

void UnpackQuantPanel(QuantFormat fmt, const uint8_t* panel, int64_t K,
                      uint8_t* rows) {
  const ir::QuantBlockInfo qi = ir::QuantInfo(fmt);
  const int64_t nb = K / 32, qb = QuantSlot(fmt), bb = qi.block_bytes;
  const int64_t row_bytes = K / qi.block_values * bb;
  const uint8_t* s = panel;
  const uint8_t* u = panel + nb * kScaleSlot;
  for (int f = 0; f < 16; ++f) {
    uint8_t* row = rows + f * row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      if (fmt == QuantFormat::kQ4_K) {
        if (b % 8 == 0)
          for (int k = 0; k < 16; ++k)
            row[b / 8 * kQ4KBytes + k] =
                s[kScaleSlot * b + LaneByte(k / 4, f, k % 4)];
        if (b % 2 == 0)
          for (int k = 0; k < 32; ++k)
            row[Q4KQsOffset(b) + k] = u[qb * b + LaneByte(k / 4, f, k % 4)];
        continue;
      }
      uint8_t* blk = row + b * bb;
      blk[0] = s[kScaleSlot * b + 2 * f];
      blk[1] = s[kScaleSlot * b + 2 * f + 1];
      const bool q8 = fmt == QuantFormat::kQ8_0;
      for (int k = 0; k < (q8 ? 32 : 16); ++k) {
        const uint8_t v = u[qb * b + LaneByte(k / 4, f, k % 4)];
        blk[2 + k] = q8 ? static_cast<uint8_t>(v ^ 0x80) : v;
      }
    }
  }
}

namespace {

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

// PackPanelPortable's layout, vectorized (the per-call packing of row
// weights): blocks [b0, b0 + nblk) of the 16 rows rows[f] into dst.
QEFF_VNNI void PackPanel(QuantFormat fmt, int64_t bb,
                         const uint8_t* const* rows, int64_t b0, int64_t nblk,
                         uint8_t* dst) {
  const int64_t qb = QuantSlot(fmt);
  uint8_t* s = dst;
  uint8_t* u = dst + nblk * kScaleSlot;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const uint8_t* p[16];
  __m512i v[4];
  for (int64_t b = 0; b < nblk; ++b) {
    const int64_t sb = b0 + b;
    __m512i* o = reinterpret_cast<__m512i*>(u + qb * b);
    if (fmt == QuantFormat::kQ4_K) {
      if (sb % 8 == 0) {
        for (int f = 0; f < 16; ++f) p[f] = rows[f] + sb / 8 * kQ4KBytes;
        Transpose16x4(p, v);
        for (int g = 0; g < 4; ++g)
          _mm512_storeu_si512(s + kScaleSlot * b + 64 * g, v[g]);
      }
      if (sb % 2 == 0) {
        for (int f = 0; f < 16; ++f) p[f] = rows[f] + Q4KQsOffset(sb);
        for (int half = 0; half < 2; ++half) {
          Transpose16x4(p, v);
          for (int g = 0; g < 4; ++g)
            _mm512_storeu_si512(o + 4 * half + g, v[g]);
          for (int f = 0; f < 16; ++f) p[f] += 16;
        }
      }
      continue;
    }
    for (int f = 0; f < 16; ++f) {
      p[f] = rows[f] + sb * bb;
      std::memcpy(s + kScaleSlot * b + 2 * f, p[f], 2);
      p[f] += 2;
    }
    Transpose16x4(p, v);
    if (fmt == QuantFormat::kQ4_0) {
      for (int g = 0; g < 4; ++g) _mm512_storeu_si512(o + g, v[g]);
      continue;
    }
    for (int g = 0; g < 4; ++g)
      _mm512_storeu_si512(o + g, _mm512_xor_si512(v[g], flip));
    for (int f = 0; f < 16; ++f) p[f] += 16;
    Transpose16x4(p, v);
    for (int g = 0; g < 4; ++g)
      _mm512_storeu_si512(o + 4 + g, _mm512_xor_si512(v[g], flip));
  }
}

// The sub-block scales of one Q4_K block of 16 features from its header as
// "lanes = features" vectors (w[0] d|dmin, w[1..3] scale bytes 0..3, 4..7,
// 8..11): d8[s][f] = d * scale_s and m8[s][f] = dmin * min_s of feature f,
// the values ir::Q4KSubBlockScales gives (the same f32 products).
QEFF_VNNI inline __attribute__((always_inline)) void Q4KScalesFromHeader(
    const __m512i* w, float (*d8)[16], float (*m8)[16]) {
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(w[0]));
  const __m512 dmin =
      _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(w[0], 16)));
  const __m512i k63 = _mm512_set1_epi32(63), k15 = _mm512_set1_epi32(15);
  const __m512i hi2 = _mm512_set1_epi32(3);
  for (int s = 0; s < 4; ++s) {
    const __m512i q0 = _mm512_srli_epi32(w[1], 8 * s);  // byte s
    const __m512i q4 = _mm512_srli_epi32(w[2], 8 * s);  // byte s + 4
    const __m512i q8 = _mm512_srli_epi32(w[3], 8 * s);  // byte s + 8
    const __m512i sc_lo = _mm512_and_si512(q0, k63);
    const __m512i m_lo = _mm512_and_si512(q4, k63);
    // Sub-block s + 4: scale (q[s+8] & 15) | (q[s] >> 6) << 4, min
    // (q[s+8] >> 4) | (q[s+4] >> 6) << 4.
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

// Activation rows of one micro tile from block b0 on: xq row r at
// xq + r * xs, its per-block values at corr / dx / xsum + r * cs.
struct QRows {
  const int8_t* xq;
  int64_t xs;
  const int32_t* corr;
  const float* dx;
  const float* xsum;
  int64_t cs;
};

// Decode (one row): the quant slots are fetched this many bytes ahead of
// their loads. Each b-step costs about 300 instructions per 2 KB of
// weights (Q4_K), so the out-of-order window alone kept too few lines in
// flight: kernels_linear_bench stream, A/B alternated, Q4_K 24-28 -> 28-30,
// Q4_0 29-33 -> 34-42, Q8_0 41-45 -> 44-49 GB/s.
constexpr int64_t kQuantAhead = 2048;

// NI rows x NJ panels over nblk blocks of packed slots (panel j's scale
// slots at s0 + j * ps, quant slots at u0 + j * ps) into acc [i * acc_si +
// 16 j + f]. kFmt: 0 Q8_0, 1 Q4_0, 2 Q4_K (nblk a multiple of 8; a slot
// pair is loaded once for its two sub-blocks, low and high nibbles into two
// accumulators). Small Q8_0 / Q4_0 tiles (decode) split each integer dot
// over two accumulators (exact integers: the order does not matter) so that
// dpbusd latency overlaps. Every (row, feature) takes the f32 chain in
// block order.
template <int NI, int NJ, int kFmt>
QEFF_VNNI void MicroQ(int64_t nblk, const QRows& x, const uint8_t* s0,
                      const uint8_t* u0, int64_t ps, float* acc,
                      int64_t acc_si) {
  constexpr bool Q4 = kFmt == 1, Q4K = kFmt == 2;
  constexpr int64_t QB = kFmt == 0 ? 512 : 256;
  constexpr int kSplit = Q4K || NI * NJ <= 4 ? 2 : 1;
  constexpr int kStep = Q4K ? 2 : 1;  // blocks per iteration
  const __m512i m4 = _mm512_set1_epi8(15);
  __m512 fa[NI][NJ];
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) {
    QEFF_UNROLL
    for (int j = 0; j < NJ; ++j)
      fa[i][j] = _mm512_loadu_ps(acc + i * acc_si + 16 * j);
  }
  alignas(64) float d8[Q4K ? NJ : 1][8][16], m8[Q4K ? NJ : 1][8][16];
  for (int64_t b = 0; b < nblk; b += kStep) {
    // The scale slots are a stream of their own, read at 1/8 (Q4_K: 1/16
    // of a super-block's 2 KB) the pace of the quant slots: too slow for the
    // hardware prefetcher to follow, so decode stalled on every header. Ask
    // for them kScaleAhead blocks early (a hint; past the end it is a no-op).
    constexpr int64_t kScaleAhead = Q4K ? 16 : 8;
    if (b % (Q4K ? 8 : 2) == 0) {
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j) {
        const uint8_t* next = s0 + j * ps + kScaleSlot * (b + kScaleAhead);
        QEFF_UNROLL
        for (int l = 0; l < (Q4K ? 4 : 1); ++l)
          _mm_prefetch(reinterpret_cast<const char*>(next + 64 * l),
                       _MM_HINT_T0);
      }
    }
    if (Q4K && b % 8 == 0) {
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j) {
        __m512i h[4];
        for (int v = 0; v < 4; ++v)
          h[v] = _mm512_loadu_si512(s0 + j * ps + kScaleSlot * b + 64 * v);
        Q4KScalesFromHeader(h, d8[j], m8[j]);
      }
    }
    __m512i ia[kSplit][NI][NJ];
    QEFF_UNROLL
    for (int i = 0; i < NI; ++i) {
      const __m512i c = Q4K ? _mm512_setzero_si512()
                            : _mm512_set1_epi32(x.corr[i * x.cs + b]);
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j) {
        ia[0][i][j] = c;
        if (kSplit == 2) ia[kSplit - 1][i][j] = _mm512_setzero_si512();
      }
    }
    const int8_t* xb = x.xq + 32 * b;
    const uint8_t* ub = u0 + QB * b;
    if (Q4 || Q4K) {
      // Q4_0: vector g's low nibbles are values 4g.., high 16 + 4g.. of
      // block b; Q4_K: values 4g.. of sub-blocks b (low) and b + 1 (high).
      constexpr int kG = Q4K ? 8 : 4;
      constexpr int kHi = Q4K ? 32 : 16;  // activation offset of the highs
      QEFF_UNROLL
      for (int g = 0; g < kG; ++g) {
        __m512i lo[NJ], hi[NJ];
        QEFF_UNROLL
        for (int j = 0; j < NJ; ++j) {
          if (NI == 1)
            _mm_prefetch(reinterpret_cast<const char*>(ub + j * ps + 64 * g +
                                                       kQuantAhead),
                         _MM_HINT_T0);
          const __m512i v = _mm512_loadu_si512(ub + j * ps + 64 * g);
          lo[j] = _mm512_and_si512(v, m4);
          hi[j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        }
        QEFF_UNROLL
        for (int i = 0; i < NI; ++i) {
          int32_t l4, h4;
          std::memcpy(&l4, xb + i * x.xs + 4 * g, 4);
          std::memcpy(&h4, xb + i * x.xs + kHi + 4 * g, 4);
          const __m512i xl = _mm512_set1_epi32(l4), xh = _mm512_set1_epi32(h4);
          QEFF_UNROLL
          for (int j = 0; j < NJ; ++j) {
            ia[0][i][j] = _mm512_dpbusd_epi32(ia[0][i][j], lo[j], xl);
            ia[kSplit - 1][i][j] =
                _mm512_dpbusd_epi32(ia[kSplit - 1][i][j], hi[j], xh);
          }
        }
      }
    } else {
      QEFF_UNROLL
      for (int g = 0; g < 8; ++g) {
        __m512i w[NJ];
        QEFF_UNROLL
        for (int j = 0; j < NJ; ++j) {
          if (NI == 1)
            _mm_prefetch(reinterpret_cast<const char*>(ub + j * ps + 64 * g +
                                                       kQuantAhead),
                         _MM_HINT_T0);
          w[j] = _mm512_loadu_si512(ub + j * ps + 64 * g);
        }
        QEFF_UNROLL
        for (int i = 0; i < NI; ++i) {
          int32_t x4;
          std::memcpy(&x4, xb + i * x.xs + 4 * g, 4);
          const __m512i xv = _mm512_set1_epi32(x4);
          QEFF_UNROLL
          for (int j = 0; j < NJ; ++j)
            ia[g % kSplit][i][j] =
                _mm512_dpbusd_epi32(ia[g % kSplit][i][j], w[j], xv);
        }
      }
    }
    if (!Q4K) {
      __m512 d[NJ];
      QEFF_UNROLL
      for (int j = 0; j < NJ; ++j)
        d[j] = _mm512_cvtph_ps(_mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(s0 + j * ps + kScaleSlot * b)));
      QEFF_UNROLL
      for (int i = 0; i < NI; ++i) {
        const __m512 dxv = _mm512_set1_ps(x.dx[i * x.cs + b]);
        QEFF_UNROLL
        for (int j = 0; j < NJ; ++j) {
          __m512i s = ia[0][i][j];
          if (kSplit == 2) s = _mm512_add_epi32(s, ia[kSplit - 1][i][j]);
          fa[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
                                     _mm512_mul_ps(d[j], dxv), fa[i][j]);
        }
      }
      continue;
    }
    QEFF_UNROLL
    for (int h = 0; h < 2; ++h) {  // sub-blocks b, b + 1 in order
      const int64_t sb = b + h;
      QEFF_UNROLL
      for (int i = 0; i < NI; ++i) {
        const __m512 dxv = _mm512_set1_ps(x.dx[i * x.cs + sb]);
        const __m512 xsv = _mm512_set1_ps(x.xsum[i * x.cs + sb]);
        QEFF_UNROLL
        for (int j = 0; j < NJ; ++j) {
          fa[i][j] = _mm512_fmadd_ps(
              _mm512_cvtepi32_ps(ia[h][i][j]),
              _mm512_mul_ps(_mm512_load_ps(d8[j][sb % 8]), dxv), fa[i][j]);
          fa[i][j] =
              _mm512_fnmadd_ps(_mm512_load_ps(m8[j][sb % 8]), xsv, fa[i][j]);
        }
      }
    }
  }
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) {
    QEFF_UNROLL
    for (int j = 0; j < NJ; ++j)
      _mm512_storeu_ps(acc + i * acc_si + 16 * j, fa[i][j]);
  }
}

using MicroQFn = void (*)(int64_t, const QRows&, const uint8_t*, const uint8_t*,
                          int64_t, float*, int64_t);
// Tiles: one row x up to 4 panels (decode), up to 4 rows x up to 2 panels.
constexpr int kNJDecode = 4;
template <int kFmt>
MicroQFn PickQ(int ni, int nj) {
  if (ni == 1) {
    switch (nj) {
      case 1:
        return MicroQ<1, 1, kFmt>;
      case 2:
        return MicroQ<1, 2, kFmt>;
      case 3:
        return MicroQ<1, 3, kFmt>;
      default:
        return MicroQ<1, 4, kFmt>;
    }
  }
  switch (ni) {
    case 2:
      return nj == 1 ? MicroQ<2, 1, kFmt> : MicroQ<2, 2, kFmt>;
    case 3:
      return nj == 1 ? MicroQ<3, 1, kFmt> : MicroQ<3, 2, kFmt>;
    default:
      return nj == 1 ? MicroQ<kNI, 1, kFmt> : MicroQ<kNI, 2, kFmt>;
  }
}
MicroQFn PickMicroQ(QuantFormat fmt, int ni, int nj) {
  switch (fmt) {
    case QuantFormat::kQ4_0:
      return PickQ<1>(ni, nj);
    case QuantFormat::kQ4_K:
      return PickQ<2>(ni, nj);
    default:
      return PickQ<0>(ni, nj);
  }
}

// Panels per work item: decode tiles take 4, others kNJ.
inline int GroupPanels(int64_t M) { return M == 1 ? kNJDecode : kNJ; }

// Panels [p0, p0 + np) for all rows. packed: a.w is PackQuantPanels' layout;
// otherwise a.w holds rows and each chunk is packed here first.
void RunGroupQ(const LinearArgs& a, const QAct& qa, bool packed, int64_t p0,
               int np) {
  const QuantFormat fmt = a.quant;
  const int64_t nb = a.K / 32, pbb = PanelBlockBytes(fmt);
  const int nj_max = GroupPanels(a.M);
  thread_local std::vector<float> acc;
  thread_local std::vector<uint8_t> ubuf;
  const int64_t acc_si = 16 * nj_max;
  acc.assign(a.M * acc_si, 0.0f);
  // Few rows (decode): the whole K at once (one pass over the weights);
  // many rows: chunks of kBlocksPerChunk stay in L1 for every row tile.
  // Neither changes a result (acc carries the f32 chain).
  const int64_t chunk = a.M <= kNI ? nb : kBlocksPerChunk;
  const uint8_t* rows[kNJDecode][16];
  if (!packed) {
    ubuf.resize(nj_max * chunk * pbb);
    const int64_t nf = std::min<int64_t>(a.N - 16 * p0, 16 * np);
    for (int j = 0; j < np; ++j)
      for (int f = 0; f < 16; ++f)  // padding lanes repeat the last feature
        rows[j][f] = a.w + (16 * p0 + std::min<int64_t>(16 * j + f, nf - 1)) *
                               a.row_bytes;
  }
  for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
    const int64_t nblk = std::min(chunk, nb - b0);
    const uint8_t *s0, *u0;
    int64_t ps;
    if (packed) {
      ps = nb * pbb;
      s0 = a.w + p0 * ps + kScaleSlot * b0;
      u0 = a.w + p0 * ps + kScaleSlot * nb + QuantSlot(fmt) * b0;
    } else {
      ps = nblk * pbb;
      for (int j = 0; j < np; ++j)
        PackPanel(fmt, a.block_bytes, rows[j], b0, nblk, ubuf.data() + j * ps);
      s0 = ubuf.data();
      u0 = ubuf.data() + kScaleSlot * nblk;
    }
    for (int64_t i0 = 0; i0 < a.M; i0 += kNI) {
      const int ni = static_cast<int>(std::min<int64_t>(kNI, a.M - i0));
      const QRows x{
          qa.xq.data() + i0 * a.K + 32 * b0, a.K,
          qa.corr.data() + i0 * nb + b0,     qa.dx.data() + i0 * nb + b0,
          qa.xs.data() + i0 * nb + b0,       nb};
      PickMicroQ(fmt, ni, np)(nblk, x, s0, u0, ps, acc.data() + i0 * acc_si,
                              acc_si);
    }
  }
  const int64_t j0 = 16 * p0, nf = std::min<int64_t>(a.N - j0, 16 * np);
  for (int64_t i = 0; i < a.M; ++i)
    for (int64_t f = 0; f < nf; ++f) {
      const float r = acc[i * acc_si + f];
      a.y[i * a.N + j0 + f] = a.bias ? r + a.bias[j0 + f] : r;
    }
}

// Every panel, in parallel over groups of GroupPanels(M) (about 4 work
// items per core).
void RunPanelsQ(const LinearArgs& a, const QAct& qa, bool packed) {
  const int64_t P = (a.N + 15) / 16, nj = GroupPanels(a.M);
  const int64_t groups = (P + nj - 1) / nj;
  const int64_t conc = std::max(1, tbb::this_task_arena::max_concurrency());
  const int64_t grain = std::max<int64_t>(1, groups / (4 * conc));
  ParallelFor(groups, grain, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g)
      RunGroupQ(a, qa, packed, g * nj,
                static_cast<int>(std::min(nj, P - g * nj)));
  });
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

// The sub-block scales of one Q4_K block (at byte o) of 16 rows (as
// Q4KScalesFromHeader).
QEFF_VNNI void Q4KScales16(const uint8_t* const* rows, int64_t o,
                           float (*d8)[16], float (*m8)[16]) {
  const uint8_t* p[16];
  for (int f = 0; f < 16; ++f) p[f] = rows[f] + o;
  __m512i w[4];
  Transpose16x4(p, w);
  Q4KScalesFromHeader(w, d8, m8);
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

bool QLinearApplies(const LinearArgs& a) { return QPackApplies(a.quant, a.K); }

namespace {

// Quantizes the activation rows of a (linear_internal.h) into *q.
void QuantizeActivations(const LinearArgs& a, QPath path, QAct* q) {
  const int32_t off = a.quant == QuantFormat::kQ4_0   ? 8
                      : a.quant == QuantFormat::kQ4_K ? 0
                                                      : 128;
  const int64_t nb = a.K / 32;
  q->xq.resize(a.M * a.K);
  q->corr.resize(a.M * nb);
  q->dx.resize(a.M * nb);
  q->xs.resize(a.M * nb);
  ParallelFor(a.M, 16, [&](int64_t ib, int64_t ie) {
    for (int64_t i = ib; i < ie; ++i) {
      int8_t* xq = q->xq.data() + i * a.K;
      int32_t* corr = q->corr.data() + i * nb;
      float* dx = q->dx.data() + i * nb;
      float* xs = q->xs.data() + i * nb;
#if defined(__x86_64__)
      if (path != QPath::kScalar) {
        QuantizeRowVnni(off, a.x + i * a.K, a.K, xq, corr, dx, xs);
        continue;
      }
#endif
      QuantizeRowScalar(off, a.x + i * a.K, a.K, xq, corr, dx, xs);
    }
  });
}

}  // namespace

void LinearQ8Act(const LinearArgs& a, QPath path) {
#if !defined(__x86_64__)
  path = QPath::kScalar;
#endif
  // (A reference: the lambdas below run on other threads, where the name
  // of a thread_local would mean their own instance.)
  thread_local QAct tls;
  QAct& qa = tls;
  QuantizeActivations(a, path, &qa);
  if (path == QPath::kScalar) {
    ForFeatureBlocks(a.N,
                     [&](int64_t jb, int64_t je) { RunScalar(a, qa, jb, je); });
    return;
  }
#if defined(__x86_64__)
  if (path == QPath::kVnniDirect ||
      (path == QPath::kVnni && a.M <= kDirectMaxM)) {
    ForFeatureBlocks(
        a.N, [&](int64_t jb, int64_t je) { RunDirectVnni(a, qa, jb, je); });
    return;
  }
  RunPanelsQ(a, qa, /*packed=*/false);
#endif
}

absl::Status RunPackedQLinear(QuantFormat quant, const uint8_t* w, int64_t N,
                              int64_t K, const float* x, int64_t M,
                              const float* bias, float* y, QPath path) {
  if (!QPackApplies(quant, K))
    return absl::InvalidArgumentError(absl::StrCat(
        "no packed ", ir::QuantFormatName(quant), " kernel for K = ", K));
  LinearArgs a = CallArgs(w, N, K, x, M, bias, y);
  a.quant = quant;
  const ir::QuantBlockInfo qi = ir::QuantInfo(quant);
  a.block = qi.block_values;
  a.block_bytes = qi.block_bytes;
#if defined(__x86_64__)
  if (path != QPath::kScalar && HasAvx512Vnni()) {
    thread_local QAct tls;
    QuantizeActivations(a, path, &tls);
    RunPanelsQ(a, tls, /*packed=*/true);
    return absl::OkStatus();
  }
#endif
  // Elsewhere: panels back to rows, 64 panels at a time (RunLinear runs
  // them in parallel), run as the row layout is.
  constexpr int64_t kPanelsPerPass = 64;
  const int64_t P = (N + 15) / 16, pb = K / 32 * PanelBlockBytes(quant);
  const int64_t row_bytes = K / qi.block_values * qi.block_bytes;
  std::vector<uint8_t> rows(16 * kPanelsPerPass * row_bytes);
  std::vector<float> yp(M * 16 * kPanelsPerPass);
  for (int64_t p0 = 0; p0 < P; p0 += kPanelsPerPass) {
    const int64_t np = std::min(kPanelsPerPass, P - p0);
    for (int64_t p = 0; p < np; ++p)
      UnpackQuantPanel(quant, w + (p0 + p) * pb, K,
                       rows.data() + 16 * p * row_bytes);
    const int64_t nf = std::min(16 * np, N - 16 * p0);
    QEFF_RETURN_IF_ERROR(RunLinear(ir::DType::kF32, quant, rows.data(), nf, K,
                                   x, M, nullptr, yp.data()));
    for (int64_t i = 0; i < M; ++i)
      for (int64_t f = 0; f < nf; ++f) {
        const int64_t j = 16 * p0 + f;
        y[i * N + j] = bias ? yp[i * nf + f] + bias[j] : yp[i * nf + f];
      }
  }
  return absl::OkStatus();
}

}  // namespace qeff::hw::cpu::linear
