// Linear on Q8_0 / Q4_0 weights with int8 activations (linear_internal.h).
//
// Layout of one pair of 32-value blocks (b, b+1) in a 64-byte vector, as
// the weights come from memory most cheaply:
//   Q8_0: bytes [b v0..31 | b+1 v0..31]; int32 lane l (bytes 4l..4l+3)
//         belongs to block l / 8.
//   Q4_0: bytes [b v0..15 | b+1 v0..15 | b v16..31 | b+1 v16..31] (low
//         nibbles of both blocks, then high nibbles); lane l -> (l / 4) % 2.
// The activation row is quantized into the same permuted layout. VNNI's
// dpbusd multiplies unsigned by signed bytes, so the weight side is made
// unsigned: Q4_0 nibbles u = q + 8 as they are, Q8_0 u = q + 128 (q ^ 0x80);
// the offset is removed exactly by starting each lane at -off * (sum of the
// lane's 4 activation bytes), precomputed per activation row:
//   isum_l = -off * sum(xq) + sum(u * xq) = sum(q * xq)    (exact int32)
//   acc_l  = fma(f32(isum_l), d_w(l) * d_x(l), acc_l)      (per pair)
// Integer sums are exact, so the scalar kernel (the specification, used on
// hosts without VNNI and in tests) matches the VNNI kernel bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "hw/cpu/kernels.h"
#include "hw/cpu/linear_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qeff::hw::cpu::linear {
namespace {

using ir::QuantFormat;

// 512 values: unpacked weights of a feature block (16 KB) and a row tile
// (6 KB) stay in L1; longer micro-kernel runs.
constexpr int64_t kPairsPerChunk = 8;
constexpr int64_t kPrefetchBytes = 2048;

inline int64_t RoundUp64(int64_t k) { return (k + 63) / 64 * 64; }

// Byte position of value v of block b in the permuted layout.
inline int64_t PermPos(bool q4, int64_t b, int64_t v) {
  const int64_t base = (b / 2) * 64, h = b % 2;
  if (!q4) return base + 32 * h + v;
  return base + 16 * h + (v < 16 ? v : 32 + (v - 16));
}

// Block (0 or 1 within the pair) of int32 lane l.
inline int LaneBlock(bool q4, int l) { return q4 ? (l / 4) % 2 : l / 8; }

// Quantized activation rows: xq [M][Kp] int8 (permuted), corr [M][Kp/4]
// int32, dxv [M][Kp/4] f32 (d_x of each lane's block).
struct QAct {
  int64_t kp = 0;
  std::vector<int8_t> xq;
  std::vector<int32_t> corr;
  std::vector<float> dxv;
};

// Block scale: d = amax / 127 and its inverse (0 for an all-zero block).
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

// Fills corr and dxv of one row from its xq and block scales.
void FinishRow(bool q4, int64_t kp, int64_t nb, const float* d,
               const int8_t* xq, int32_t* corr, float* dxv) {
  const int32_t off = q4 ? 8 : 128;
  for (int64_t p = 0; p < kp / 64; ++p) {
    for (int l = 0; l < 16; ++l) {
      const int8_t* g = xq + 64 * p + 4 * l;
      corr[16 * p + l] = -off * (g[0] + g[1] + g[2] + g[3]);
      const int64_t b = 2 * p + LaneBlock(q4, l);
      dxv[16 * p + l] = b < nb ? d[b] : 0.0f;
    }
  }
}

void QuantizeRowScalar(bool q4, const float* x, int64_t K, int64_t kp,
                       int8_t* xq, int32_t* corr, float* dxv) {
  const int64_t nb = K / 32;
  std::vector<float> d(nb);
  std::memset(xq, 0, kp);
  for (int64_t b = 0; b < nb; ++b) {
    float amax = 0.0f;
    for (int v = 0; v < 32; ++v)
      amax = std::max(amax, std::fabs(x[32 * b + v]));
    float id;
    BlockScale(amax, &d[b], &id);
    for (int v = 0; v < 32; ++v)
      xq[PermPos(q4, b, v)] = QuantValue(x[32 * b + v], id);
  }
  FinishRow(q4, kp, nb, d.data(), xq, corr, dxv);
}

// Unpacks pairs [p0, p0 + np) of one weight row into u (64 bytes per pair)
// and dw (16 lane scales per pair), scalar.
void UnpackScalar(bool q4, int64_t bb, const uint8_t* row, int64_t nb,
                  int64_t p0, int64_t np, uint8_t* u, float* dw) {
  for (int64_t p = 0; p < np; ++p) {
    float d[2] = {0.0f, 0.0f};
    uint8_t* up = u + 64 * p;
    for (int h = 0; h < 2; ++h) {
      const int64_t b = 2 * (p0 + p) + h;
      const uint8_t* blk = row + b * bb;
      if (b < nb) {
        uint16_t hb;
        std::memcpy(&hb, blk, 2);
        d[h] = ir::HalfToFloat(hb);
      }
      for (int v = 0; v < 32; ++v) {
        uint8_t val;
        if (q4) {
          const uint8_t byte = b < nb ? blk[2 + (v & 15)] : 0;
          val = v < 16 ? (byte & 15) : (byte >> 4);
        } else {
          val = static_cast<uint8_t>((b < nb ? blk[2 + v] : 0) ^ 0x80);
        }
        up[PermPos(q4, h, v)] = val;  // block h of pair 0 == position in pair
      }
    }
    for (int l = 0; l < 16; ++l) dw[16 * p + l] = d[LaneBlock(q4, l)];
  }
}

// acc[i][j][16] over np pairs, scalar (the specification).
void MicroScalar(int ni, int nj, int64_t np, const int8_t* const* xq,
                 const int32_t* const* corr, const float* const* dxv,
                 const uint8_t* const* u, const float* const* dw, float* acc,
                 int64_t acc_stride_i) {
  for (int i = 0; i < ni; ++i) {
    for (int j = 0; j < nj; ++j) {
      float* a = acc + i * acc_stride_i + j * 16;
      for (int64_t p = 0; p < np; ++p) {
        for (int l = 0; l < 16; ++l) {
          int32_t s = corr[i][16 * p + l];
          for (int t = 0; t < 4; ++t)
            s += static_cast<int32_t>(u[j][64 * p + 4 * l + t]) *
                 static_cast<int32_t>(xq[i][64 * p + 4 * l + t]);
          const float sc = dw[j][16 * p + l] * dxv[i][16 * p + l];
          a[l] = std::fma(static_cast<float>(s), sc, a[l]);
        }
      }
    }
  }
}

#if defined(__x86_64__)
#define QEFF_VNNI \
  __attribute__(( \
      target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,f16c,fma")))

QEFF_VNNI void QuantizeRowVnni(bool q4, const float* x, int64_t K, int64_t kp,
                               int8_t* xq, int32_t* corr, float* dxv) {
  const int64_t nb = K / 32;
  float dbuf[256];
  std::vector<float> dvec;
  float* d = dbuf;
  if (nb > 256) {
    dvec.resize(nb);
    d = dvec.data();
  }
  std::memset(xq + (nb / 2) * 64, 0, kp - (nb / 2) * 64);
  const __m512 lim = _mm512_set1_ps(127.0f), nlim = _mm512_set1_ps(-127.0f);
  for (int64_t b = 0; b < nb; ++b) {
    const __m512 x0 = _mm512_loadu_ps(x + 32 * b);
    const __m512 x1 = _mm512_loadu_ps(x + 32 * b + 16);
    const float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
    float id;
    BlockScale(amax, &d[b], &id);
    const __m512 vid = _mm512_set1_ps(id);
    const int r = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    __m512 r0 = _mm512_roundscale_ps(_mm512_mul_ps(x0, vid), r);
    __m512 r1 = _mm512_roundscale_ps(_mm512_mul_ps(x1, vid), r);
    r0 = _mm512_min_ps(lim, _mm512_max_ps(nlim, r0));
    r1 = _mm512_min_ps(lim, _mm512_max_ps(nlim, r1));
    const __m128i q0 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(r0));
    const __m128i q1 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(r1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + PermPos(q4, b, 0)), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + PermPos(q4, b, 16)), q1);
  }
  const int32_t off = q4 ? 8 : 128;
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i noff = _mm512_set1_epi32(-off);
  for (int64_t p = 0; p < kp / 64; ++p) {
    const __m512i v = _mm512_loadu_si512(xq + 64 * p);
    const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, v);
    _mm512_storeu_si512(corr + 16 * p, _mm512_mullo_epi32(s, noff));
    const float d0 = 2 * p < nb ? d[2 * p] : 0.0f;
    const float d1 = 2 * p + 1 < nb ? d[2 * p + 1] : 0.0f;
    const __mmask16 m = q4 ? 0xF0F0 : 0xFF00;
    _mm512_storeu_ps(dxv + 16 * p, _mm512_mask_blend_ps(m, _mm512_set1_ps(d0),
                                                        _mm512_set1_ps(d1)));
  }
}

QEFF_VNNI void UnpackVnni(bool q4, int64_t bb, const uint8_t* row, int64_t nb,
                          int64_t p0, int64_t np, uint8_t* u, float* dw) {
  const __m256i m4 = _mm256_set1_epi8(15);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __mmask16 m = q4 ? 0xF0F0 : 0xFF00;
  for (int64_t p = 0; p < np; ++p) {
    const int64_t b = 2 * (p0 + p);
    if (b + 1 >= nb) {  // a lone last block: the scalar form pads it
      UnpackScalar(q4, bb, row, nb, p0 + p, 1, u + 64 * p, dw + 16 * p);
      continue;
    }
    const uint8_t* b0 = row + b * bb;
    const uint8_t* b1 = b0 + bb;
    // Weights stream from memory once per call (decode): fetch ahead (past
    // the row end it is the next feature's row; prefetch never faults).
    _mm_prefetch(reinterpret_cast<const char*>(b0) + kPrefetchBytes,
                 _MM_HINT_T0);
    uint16_t h0, h1;
    std::memcpy(&h0, b0, 2);
    std::memcpy(&h1, b1, 2);
    const __m128 dd = _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, 0, 0, h1, h0));
    _mm512_storeu_ps(
        dw + 16 * p,
        _mm512_mask_blend_ps(m, _mm512_broadcastss_ps(dd),
                             _mm512_broadcastss_ps(_mm_movehdup_ps(dd))));
    __m512i v;
    if (q4) {
      const __m256i q =
          _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(b1 + 2),
                              reinterpret_cast<const __m128i*>(b0 + 2));
      const __m256i lo = _mm256_and_si256(q, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    } else {
      const __m256i q0 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2));
      const __m256i q1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + 2));
      v = _mm512_xor_si512(
          _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1), flip);
    }
    _mm512_storeu_si512(u + 64 * p, v);
  }
}

template <int NI, int NJ>
QEFF_VNNI void MicroVnni(int64_t np, const int8_t* const* xq,
                         const int32_t* const* corr, const float* const* dxv,
                         const uint8_t* const* u, const float* const* dw,
                         float* acc, int64_t acc_stride_i) {
  __m512 a[NI][NJ];
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < NJ; ++j)
      a[i][j] = _mm512_loadu_ps(acc + i * acc_stride_i + j * 16);
  // Rows and features sit at fixed strides: base + stride addressing keeps
  // the loop within the general registers (20 pointers would spill).
  const int8_t* x0 = xq[0];
  const int32_t* c0 = corr[0];
  const float* dx0 = dxv[0];
  const int64_t xs = NI > 1 ? xq[1] - xq[0] : 0;
  const int64_t cs = NI > 1 ? corr[1] - corr[0] : 0;
  const uint8_t* u0 = u[0];
  const float* dw0 = dw[0];
  const int64_t us = NJ > 1 ? u[1] - u[0] : 0;
  const int64_t ds = NJ > 1 ? dw[1] - dw[0] : 0;
  for (int64_t p = 0; p < np; ++p) {
    for (int i = 0; i < NI; ++i) {
      const __m512i xv = _mm512_loadu_si512(x0 + i * xs + 64 * p);
      const __m512i cv = _mm512_loadu_si512(c0 + i * cs + 16 * p);
      const __m512 dx = _mm512_loadu_ps(dx0 + i * cs + 16 * p);
      for (int j = 0; j < NJ; ++j) {
        const __m512i s = _mm512_dpbusd_epi32(
            cv, _mm512_loadu_si512(u0 + j * us + 64 * p), xv);
        a[i][j] = _mm512_fmadd_ps(
            _mm512_cvtepi32_ps(s),
            _mm512_mul_ps(_mm512_loadu_ps(dw0 + j * ds + 16 * p), dx), a[i][j]);
      }
    }
  }
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < NJ; ++j)
      _mm512_storeu_ps(acc + i * acc_stride_i + j * 16, a[i][j]);
}

using MicroFn = void (*)(int64_t, const int8_t* const*, const int32_t* const*,
                         const float* const*, const uint8_t* const*,
                         const float* const*, float*, int64_t);
template <int NI>
MicroFn PickJ(int nj) {
  switch (nj) {
    case 1:
      return MicroVnni<NI, 1>;
    case 2:
      return MicroVnni<NI, 2>;
    case 3:
      return MicroVnni<NI, 3>;
    default:
      return MicroVnni<NI, 4>;
  }
}
MicroFn PickVnni(int ni, int nj) {
  switch (ni) {
    case 1:
      return PickJ<1>(nj);
    case 2:
      return PickJ<2>(nj);
    case 3:
      return PickJ<3>(nj);
    default:
      return PickJ<4>(nj);
  }
}
#endif

constexpr int kNI = 4, kNJ = 4;

// Features [jb, je) (at most kFeatBlock) for all rows.
void RunBlock(const LinearArgs& a, const QAct& qa, QPath path, int64_t jb,
              int64_t je) {
  const bool q4 = a.quant == QuantFormat::kQ4_0;
  const int64_t nb = a.K / 32, np_all = qa.kp / 64;
  const int64_t nf = je - jb;
  thread_local std::vector<float> acc;
  thread_local std::vector<uint8_t> ubuf;
  thread_local std::vector<float> dbuf;
  acc.assign(a.M * kFeatBlock * 16, 0.0f);
  const int64_t acc_si = kFeatBlock * 16;
  // Few rows (decode): each tile of kNJ weight rows is unpacked over the
  // whole K and streamed once (contiguous memory); many rows (prefill):
  // chunks of kPairsPerChunk pairs for the whole feature block, reused by
  // every row tile from L1. The chunking never changes a (row, feature)
  // result: its 16 lanes go on accumulating in acc.
  const bool whole = a.M <= kNI;
  const int64_t chunk_pairs = whole ? np_all : kPairsPerChunk;
  ubuf.resize(kFeatBlock * 64 * chunk_pairs);
  dbuf.resize(kFeatBlock * 16 * chunk_pairs);
  for (int64_t p0 = 0; p0 < np_all; p0 += chunk_pairs) {
    const int64_t np = std::min(chunk_pairs, np_all - p0);
    for (int64_t jt = 0; jt < nf; jt += kNJ) {
      // In chunked mode the whole block is unpacked before any micro call.
      const int64_t fe = whole ? std::min(nf, jt + kNJ) : nf;
      if (whole || jt == 0) {
        for (int64_t f = whole ? jt : 0; f < fe; ++f) {
          const uint8_t* row = a.w + (jb + f) * a.row_bytes;
          uint8_t* u = ubuf.data() + f * 64 * chunk_pairs;
          float* dw = dbuf.data() + f * 16 * chunk_pairs;
#if defined(__x86_64__)
          if (path == QPath::kVnni) {
            UnpackVnni(q4, a.block_bytes, row, nb, p0, np, u, dw);
            continue;
          }
#endif
          UnpackScalar(q4, a.block_bytes, row, nb, p0, np, u, dw);
        }
      }
      if (!whole && jt != 0) continue;
      for (int64_t i0 = 0; i0 < a.M; i0 += kNI) {
        const int ni = static_cast<int>(std::min<int64_t>(kNI, a.M - i0));
        const int8_t* xq[kNI];
        const int32_t* corr[kNI];
        const float* dxv[kNI];
        for (int i = 0; i < ni; ++i) {
          xq[i] = qa.xq.data() + (i0 + i) * qa.kp + 64 * p0;
          corr[i] = qa.corr.data() + (i0 + i) * (qa.kp / 4) + 16 * p0;
          dxv[i] = qa.dxv.data() + (i0 + i) * (qa.kp / 4) + 16 * p0;
        }
        for (int64_t j0 = whole ? jt : 0; j0 < fe; j0 += kNJ) {
          const int nj = static_cast<int>(std::min<int64_t>(kNJ, fe - j0));
          const uint8_t* u[kNJ];
          const float* dw[kNJ];
          for (int j = 0; j < nj; ++j) {
            u[j] = ubuf.data() + (j0 + j) * 64 * chunk_pairs;
            dw[j] = dbuf.data() + (j0 + j) * 16 * chunk_pairs;
          }
          float* ap = acc.data() + i0 * acc_si + j0 * 16;
#if defined(__x86_64__)
          if (path == QPath::kVnni) {
            PickVnni(ni, nj)(np, xq, corr, dxv, u, dw, ap, acc_si);
            continue;
          }
#endif
          MicroScalar(ni, nj, np, xq, corr, dxv, u, dw, ap, acc_si);
        }
      }
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

bool QLinearApplies(const LinearArgs& a) {
  return (a.quant == QuantFormat::kQ8_0 || a.quant == QuantFormat::kQ4_0) &&
         a.K % 32 == 0;
}

void LinearQ8Act(const LinearArgs& a, QPath path) {
#if !defined(__x86_64__)
  path = QPath::kScalar;
#endif
  const bool q4 = a.quant == QuantFormat::kQ4_0;
  thread_local QAct qa;
  qa.kp = RoundUp64(a.K);
  qa.xq.resize(a.M * qa.kp);
  qa.corr.resize(a.M * qa.kp / 4);
  qa.dxv.resize(a.M * qa.kp / 4);
  QAct* q = &qa;
  auto quantize = [&](int64_t i) {
    int8_t* xq = q->xq.data() + i * q->kp;
    int32_t* corr = q->corr.data() + i * q->kp / 4;
    float* dxv = q->dxv.data() + i * q->kp / 4;
#if defined(__x86_64__)
    if (path == QPath::kVnni) {
      QuantizeRowVnni(q4, a.x + i * a.K, a.K, q->kp, xq, corr, dxv);
      return;
    }
#endif
    QuantizeRowScalar(q4, a.x + i * a.K, a.K, q->kp, xq, corr, dxv);
  };
  ParallelFor(a.M, 16, [&](int64_t ib, int64_t ie) {
    for (int64_t i = ib; i < ie; ++i) quantize(i);
  });
  ForFeatureBlocks(a.N, [&](int64_t jb, int64_t je) {
    for (int64_t j = jb; j < je; j += kFeatBlock)
      RunBlock(a, *q, path, j, std::min(je, j + kFeatBlock));
  });
}

}  // namespace qeff::hw::cpu::linear
