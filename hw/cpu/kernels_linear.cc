// Linear (x [..., K] times a constant weight W [N, K]: y = x W^T) for weights
// in f32, f16, bf16 and every block format of ir/quant.h, and fused
// attention over the retained cache.
//
// Linear: work is split over output features. On AVX2+FMA hosts (K a
// multiple of 8) features go in tiles of 4 and input rows in tiles of 3
// (register-blocked FMA), each weight chunk of 256 values decoded once per
// tile; one (row, feature) dot is a fixed computation — an 8-lane FMA chain
// per chunk, reduced in a fixed order, chunks added in ascending order to a
// double — so a row's result depends on nothing but that row and W
// (batch-invariant). Otherwise the weight row is walked block by block (a
// quantized block dequantized once into a small float buffer, then dotted
// with every input row) with the same kind of double accumulator.
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "hw/cpu/attention_internal.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/linear_internal.h"
#include "ir/quant.h"
#include "oneapi/tbb/task_arena.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace qeff::hw::cpu {

namespace linear {

void ForFeatureBlocks(int64_t N,
                      const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t blocks = (N + kFeatBlock - 1) / kFeatBlock;
  const int64_t conc = std::max(1, tbb::this_task_arena::max_concurrency());
  // About 4 work items per core: both cores busy even for small N (decode),
  // little scheduling overhead for the 32000-feature output head.
  const int64_t grain = std::max<int64_t>(1, blocks / (4 * conc));
  ParallelFor(blocks, grain, [&](int64_t b0, int64_t b1) {
    fn(b0 * kFeatBlock, std::min(N, b1 * kFeatBlock));
  });
}

void ForPanelItems(int64_t N, const std::function<void(int64_t, int)>& fn) {
  const int64_t panels = (N + 15) / 16;
  const int64_t conc = std::max(1, tbb::this_task_arena::max_concurrency());
  const int64_t grain = std::max<int64_t>(
      1, std::min<int64_t>(kPanelsPerItem, panels / (4 * conc)));
  ParallelFor(panels, grain, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; p += kPanelsPerItem)
      fn(p, static_cast<int>(std::min<int64_t>(kPanelsPerItem, pe - p)));
  });
}

void StoreItem(const LinearArgs& a, const float* acc, int64_t jb, int64_t je) {
  for (int64_t i = 0; i < a.M; ++i)
    for (int64_t j = jb; j < je; ++j) {
      const float r = acc[i * kItemFeat + (j - jb)];
      a.y[i * a.N + j] = a.bias ? r + a.bias[j] : r;
    }
}

float HSum16(const float* a) {
  float t8[8], t4[4];
  for (int l = 0; l < 8; ++l) t8[l] = a[l] + a[l + 8];
  for (int l = 0; l < 4; ++l) t4[l] = t8[l] + t8[l + 4];
  return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

#if defined(__x86_64__)
// CPUID leaf 1 ECX bit 29 (clang 14's __builtin_cpu_supports lacks "f16c").
bool HasF16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}

bool HasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("fma") && HasF16c();
  return has;
}
bool HasAvx512Vnni() {
  static const bool has = HasAvx512() && __builtin_cpu_supports("avx512vnni");
  return has;
}
#endif

}  // namespace linear

namespace {

using ir::DType;
using ir::QuantFormat;

float DotPortable(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) +
         ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float DotAvx2(const float* a,
                                                  const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  __m128 lo = _mm256_castps256_ps128(acc), hi = _mm256_extractf128_ps(acc, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return _mm_cvtss_f32(s) + tail;
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") &&
                          __builtin_cpu_supports("fma") && linear::HasF16c();
  return has;
}
#endif

inline float Dot(const float* a, const float* b, int64_t n) {
#if defined(__x86_64__)
  if (HasAvx2()) return DotAvx2(a, b, n);
#endif
  return DotPortable(a, b, n);
}

// Decodes values [v0, v0 + n) of one weight row into `out`, for the
// row-local block starting at v0. For quantized formats n is the block size.
struct RowDecoder {
  DType dtype;
  QuantFormat quant;
  int64_t block;        // values per step
  int64_t block_bytes;  // quantized only
  // Returns a pointer to n floats (either into the row itself or `buf`).
  const float* Decode(const uint8_t* row, int64_t v0, int64_t n,
                      float* buf) const {
    if (quant != QuantFormat::kNone) {
      const uint8_t* blk = row + (v0 / block) * block_bytes;
      switch (quant) {
        case QuantFormat::kQ8_0: {
          uint16_t h;
          std::memcpy(&h, blk, 2);
          const float d = ir::HalfToFloat(h);
          const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
          for (int j = 0; j < 32; ++j) buf[j] = d * q[j];
          return buf;
        }
        case QuantFormat::kQ4_0: {
          uint16_t h;
          std::memcpy(&h, blk, 2);
          const float d = ir::HalfToFloat(h);
          const uint8_t* q = blk + 2;
          for (int j = 0; j < 16; ++j) {
            buf[j] = d * static_cast<float>((q[j] & 15) - 8);
            buf[j + 16] = d * static_cast<float>((q[j] >> 4) - 8);
          }
          return buf;
        }
        default:
          // K-quants and MX: the IR's block decoder (exact llama.cpp / OCP
          // decoding); a 256- or 32-value block amortizes the call.
          ir::DequantizeBlock(quant, blk, buf).IgnoreError();
          return buf;
      }
    }
    switch (dtype) {
      case DType::kF32:
        return reinterpret_cast<const float*>(row) + v0;
      case DType::kF16: {
        const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + v0;
        for (int64_t j = 0; j < n; ++j) buf[j] = ir::HalfToFloat(p[j]);
        return buf;
      }
      case DType::kBF16: {
        const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + v0;
        for (int64_t j = 0; j < n; ++j) {
          uint32_t u = static_cast<uint32_t>(p[j]) << 16;
          std::memcpy(&buf[j], &u, 4);
        }
        return buf;
      }
      default:
        return nullptr;
    }
  }
};

#if defined(__x86_64__)
// The AVX2 path (K a multiple of 8): output features in tiles of up to 4,
// input rows in tiles of up to 3. For one (row i, feature j) the dot is
// always the same computation whatever the tiling, M or the thread count:
// over each chunk of 256 values (the last may be shorter) one 8-lane FMA
// chain in ascending order, reduced in a fixed order to float and added to
// a double accumulator in ascending chunk order. Weights are decoded chunk
// by chunk (exactly as RowDecoder does) into a small float buffer; f32
// weights are read in place.
constexpr int64_t kChunk = 256;

__attribute__((target("avx2,fma"))) inline float HSum8(__m256 acc) {
  __m128 lo = _mm256_castps256_ps128(acc), hi = _mm256_extractf128_ps(acc, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

template <int NI, int NJ>
__attribute__((target("avx2,fma"))) void MicroTile(const float* const* x,
                                                   const float* const* w,
                                                   int64_t len, double* tot,
                                                   int64_t tot_stride) {
  __m256 acc[NI][NJ];
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < NJ; ++j) acc[i][j] = _mm256_setzero_ps();
  for (int64_t v = 0; v < len; v += 8) {
    __m256 wv[NJ];
    for (int j = 0; j < NJ; ++j) wv[j] = _mm256_loadu_ps(w[j] + v);
    for (int i = 0; i < NI; ++i) {
      const __m256 xv = _mm256_loadu_ps(x[i] + v);
      for (int j = 0; j < NJ; ++j)
        acc[i][j] = _mm256_fmadd_ps(wv[j], xv, acc[i][j]);
    }
  }
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < NJ; ++j) tot[i * tot_stride + j] += HSum8(acc[i][j]);
}

using MicroFn = void (*)(const float* const*, const float* const*, int64_t,
                         double*, int64_t);
template <int NI>
MicroFn PickJ(int nj) {
  switch (nj) {
    case 1:
      return MicroTile<NI, 1>;
    case 2:
      return MicroTile<NI, 2>;
    case 3:
      return MicroTile<NI, 3>;
    default:
      return MicroTile<NI, 4>;
  }
}
MicroFn PickMicro(int ni, int nj) {
  switch (ni) {
    case 1:
      return PickJ<1>(nj);
    case 2:
      return PickJ<2>(nj);
    default:
      return PickJ<3>(nj);
  }
}

// Decodes values [v0, v0 + len) of a weight row into dst (len a multiple of
// the block for quantized formats), with the same values as RowDecoder.
__attribute__((target("avx2,fma,f16c"))) void DecodeChunkAvx2(
    const RowDecoder& dec, const uint8_t* row, int64_t v0, int64_t len,
    float* dst) {
  if (dec.quant == QuantFormat::kQ8_0) {
    for (int64_t b = 0; b < len; b += 32) {
      const uint8_t* blk = row + ((v0 + b) / 32) * dec.block_bytes;
      uint16_t h;
      std::memcpy(&h, blk, 2);
      const __m256 d = _mm256_set1_ps(ir::HalfToFloat(h));
      for (int k = 0; k < 4; ++k) {
        const __m128i q =
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 2 + 8 * k));
        _mm256_storeu_ps(
            dst + b + 8 * k,
            _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
      }
    }
    return;
  }
  if (dec.quant == QuantFormat::kQ4_0) {
    const __m128i m4 = _mm_set1_epi8(15);
    const __m256i eight = _mm256_set1_epi32(8);
    for (int64_t b = 0; b < len; b += 32) {
      const uint8_t* blk = row + ((v0 + b) / 32) * dec.block_bytes;
      uint16_t h;
      std::memcpy(&h, blk, 2);
      const __m256 d = _mm256_set1_ps(ir::HalfToFloat(h));
      const __m128i q =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
      const __m128i lo = _mm_and_si128(q, m4);
      const __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
      const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi,
                                _mm_srli_si128(hi, 8)};
      for (int k = 0; k < 4; ++k) {
        const __m256i iv =
            _mm256_sub_epi32(_mm256_cvtepu8_epi32(parts[k]), eight);
        _mm256_storeu_ps(dst + b + 8 * k,
                         _mm256_mul_ps(d, _mm256_cvtepi32_ps(iv)));
      }
    }
    return;
  }
  if (dec.quant != QuantFormat::kNone) {
    for (int64_t b = 0; b < len; b += dec.block)
      dec.Decode(row, v0 + b, dec.block, dst + b);
    return;
  }
  const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + v0;
  if (dec.dtype == DType::kF16) {
    for (int64_t v = 0; v < len; v += 8)
      _mm256_storeu_ps(dst + v, _mm256_cvtph_ps(_mm_loadu_si128(
                                    reinterpret_cast<const __m128i*>(p + v))));
    return;
  }
  // bf16
  for (int64_t v = 0; v < len; v += 8) {
    const __m256i u = _mm256_slli_epi32(
        _mm256_cvtepu16_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + v))),
        16);
    _mm256_storeu_ps(dst + v, _mm256_castsi256_ps(u));
  }
}

// Features [jb, je) of y = x W^T (+ bias) on the AVX2 path.
void LinearTiledAvx2(const RowDecoder& dec, const uint8_t* w, int64_t row_bytes,
                     const float* px, int64_t M, int64_t K, const float* bias,
                     float* py, int64_t N, int64_t jb, int64_t je) {
  std::vector<float> buf(4 * kChunk);
  std::vector<double> tot(M * 4);
  const bool in_place =
      dec.quant == QuantFormat::kNone && dec.dtype == DType::kF32;
  for (int64_t j0 = jb; j0 < je; j0 += 4) {
    const int nj = static_cast<int>(std::min<int64_t>(4, je - j0));
    std::fill(tot.begin(), tot.end(), 0.0);
    for (int64_t v0 = 0; v0 < K; v0 += kChunk) {
      const int64_t len = std::min(kChunk, K - v0);
      const float* wp[4];
      for (int j = 0; j < nj; ++j) {
        const uint8_t* row = w + (j0 + j) * row_bytes;
        if (in_place) {
          wp[j] = reinterpret_cast<const float*>(row) + v0;
        } else {
          DecodeChunkAvx2(dec, row, v0, len, buf.data() + j * kChunk);
          wp[j] = buf.data() + j * kChunk;
        }
      }
      for (int64_t i0 = 0; i0 < M; i0 += 3) {
        const int ni = static_cast<int>(std::min<int64_t>(3, M - i0));
        const float* xp[3];
        for (int i = 0; i < ni; ++i) xp[i] = px + (i0 + i) * K + v0;
        PickMicro(ni, nj)(xp, wp, len, tot.data() + i0 * 4, 4);
      }
    }
    for (int64_t i = 0; i < M; ++i) {
      for (int j = 0; j < nj; ++j) {
        const float r = static_cast<float>(tot[i * 4 + j]);
        py[i * N + j0 + j] = bias ? r + bias[j0 + j] : r;
      }
    }
  }
}
#endif

// Linear(x [..., K] f32, W [N, K] const, bias [N] f32 or omitted) -> y
// [..., N] f32; y = f32(x W^T) + bias (the bias added in f32, as the
// separate Add it replaces).
absl::Status Linear(const KernelCtx& k) {
  const Arg& x = k.in[0];
  const Arg& w = k.in[1];
  const float* bias =
      k.in.size() > 2 && k.in[2].data ? k.in[2].in<float>() : nullptr;
  const int64_t K = x.dims().back();
  // Rows W [N, K], or panels (N: the output's): [ceil(N / 16), PackedK,
  // 16] float, [ceil(N / 16), 16, K] block-quantized (linear_internal.h).
  const bool packed = w.dims().size() == 3;
  const bool qpacked = packed && w.slot->quant != QuantFormat::kNone;
  const int64_t N = packed ? k.out[0].dims().back() : w.dims()[0];
  const std::vector<int64_t> want =
      qpacked ? std::vector<int64_t>{(N + 15) / 16, 16, K}
              : std::vector<int64_t>{(N + 15) / 16,
                                     linear::PackedK(w.slot->dtype, K), 16};
  if (packed ? w.dims() != want : (w.dims().size() != 2 || w.dims()[1] != K))
    return KernelError(k, "weight does not match input");
  const int64_t M = K ? x.n() / K : 0;
  if (bias && k.in[2].n() != N)
    return KernelError(k, "bias does not match the weight");
  absl::Status st =
      qpacked
          ? linear::RunPackedQLinear(w.slot->quant, w.data, N, K, x.in<float>(),
                                     M, bias, k.out[0].out<float>())
      : packed
          ? linear::RunPackedLinear(w.slot->dtype, w.data, N, K, x.in<float>(),
                                    M, bias, k.out[0].out<float>())
          : linear::RunLinear(w.slot->dtype, w.slot->quant, w.data, N, K,
                              x.in<float>(), M, bias, k.out[0].out<float>());
  if (!st.ok()) return KernelError(k, st.message());
  return absl::OkStatus();
}

}  // namespace

namespace linear {

absl::Status RunLinear(DType dtype, QuantFormat quant, const uint8_t* wdata,
                       int64_t N, int64_t K, const float* px, int64_t M,
                       const float* bias, float* py) {
  RowDecoder dec{dtype, quant, 64, 0};
  int64_t row_bytes;
  if (quant != QuantFormat::kNone) {
    const ir::QuantBlockInfo qi = ir::QuantInfo(quant);
    if (K % qi.block_values)
      return absl::InvalidArgumentError("K is not a multiple of the block");
    dec.block = qi.block_values;
    dec.block_bytes = qi.block_bytes;
    row_bytes = K / qi.block_values * qi.block_bytes;
  } else {
    if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16)
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported weight dtype ", ir::DTypeName(dtype)));
    row_bytes = K * ir::DTypeSize(dtype);
  }
  linear::LinearArgs la = CallArgs(wdata, N, K, px, M, bias, py);
  la.dtype = dtype;
  la.quant = quant;
  la.block = dec.block;
  la.block_bytes = dec.block_bytes;
  la.row_bytes = row_bytes;
#if defined(__x86_64__)
  // Q8_0 / Q4_0 / Q4_K on VNNI hosts: int8 activations (not exact: see
  // linear_internal.h); elsewhere the exact f32 paths below.
  if (linear::QLinearApplies(la) && linear::HasAvx512Vnni()) {
    linear::LinearQ8Act(la, linear::QPath::kVnni);
    return absl::OkStatus();
  }
  if (linear::FloatAvx512Applies(la)) {
    linear::LinearFloatAvx512(la);
    return absl::OkStatus();
  }
  // The tiled path needs whole 8-lane steps and chunks of whole blocks.
  if (HasAvx2() && K % 8 == 0 && kChunk % dec.block == 0) {
    const int64_t tiles = (N + 3) / 4;
    const int64_t grain =
        std::max<int64_t>(1, std::min<int64_t>(8, tiles / 32));
    ParallelFor(tiles, grain, [&](int64_t tb, int64_t te) {
      LinearTiledAvx2(dec, wdata, row_bytes, px, M, K, bias, py, N, tb * 4,
                      std::min(N, te * 4));
    });
    return absl::OkStatus();
  }
#endif
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(16, N / 64));
  ParallelFor(N, grain, [&](int64_t jb, int64_t je) {
    std::vector<double> acc(M);
    std::vector<float> buf(dec.block);
    for (int64_t j = jb; j < je; ++j) {
      const uint8_t* row = wdata + j * row_bytes;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t v0 = 0; v0 < K; v0 += dec.block) {
        const int64_t n = std::min(dec.block, K - v0);
        const float* wb = dec.Decode(row, v0, n, buf.data());
        for (int64_t i = 0; i < M; ++i) acc[i] += Dot(wb, px + i * K + v0, n);
      }
      const float bj = bias ? bias[j] : 0.0f;
      for (int64_t i = 0; i < M; ++i)
        py[i * N + j] =
            bias ? static_cast<float>(acc[i]) + bj : static_cast<float>(acc[i]);
    }
  });
  return absl::OkStatus();
}

ir::Tensor PackPanels(const ir::Tensor& w) {
  if (w.dtype() == DType::kBF16) return PackBf16Pairs(w);
  const int64_t N = w.dims()[0], K = w.dims()[1], P = (N + 15) / 16;
  const int64_t es = ir::DTypeSize(w.dtype());
  ir::Tensor out = ir::Tensor::Zeros(w.dtype(), {P, K, 16});
  const uint8_t* src = w.raw();
  uint8_t* dst = out.mutable_raw();
  for (int64_t j = 0; j < N; ++j) {
    const int64_t p = j / 16, l = j % 16;
    for (int64_t k = 0; k < K; ++k)
      std::memcpy(dst + ((p * K + k) * 16 + l) * es, src + (j * K + k) * es,
                  es);
  }
  return out;
}

void LinearPackedPortable(const LinearArgs& a) {
  if (a.dtype == DType::kBF16) return LinearPackedBf16(a, Bf16Path::kPortable);
  const int64_t P = (a.N + 15) / 16;
  const int64_t es = ir::DTypeSize(a.dtype);
  ParallelFor(P, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const uint8_t* panel = a.w + p * a.K * 16 * es;
      for (int64_t i = 0; i < a.M; ++i) {
        const float* x = a.x + i * a.K;
        float acc[16] = {};
        float w[16];
        for (int64_t k = 0; k < a.K; ++k) {
          const uint8_t* wk = panel + k * 16 * es;
          for (int l = 0; l < 16; ++l) {
            if (a.dtype == DType::kF32) {
              std::memcpy(&w[l], wk + 4 * l, 4);
            } else {
              uint16_t h;
              std::memcpy(&h, wk + 2 * l, 2);
              w[l] = ir::HalfToFloat(h);
            }
          }
          for (int l = 0; l < 16; ++l) acc[l] = std::fma(w[l], x[k], acc[l]);
        }
        for (int64_t j = 16 * p; j < std::min(a.N, 16 * (p + 1)); ++j)
          a.y[i * a.N + j] =
              a.bias ? acc[j - 16 * p] + a.bias[j] : acc[j - 16 * p];
      }
    }
  });
}

absl::Status RunPackedLinear(DType dtype, const uint8_t* w, int64_t N,
                             int64_t K, const float* x, int64_t M,
                             const float* bias, float* y) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16)
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported packed weight dtype ", ir::DTypeName(dtype)));
  LinearArgs a = CallArgs(w, N, K, x, M, bias, y);
  a.dtype = dtype;
#if defined(__x86_64__)
  if (HasAvx512()) {
    LinearPackedAvx512(a);
    return absl::OkStatus();
  }
#endif
  LinearPackedPortable(a);
  return absl::OkStatus();
}

}  // namespace linear

namespace {

// acc [D] += p[c] v[c] over the live c < n, ascending.
void AddValuesPortable(const float* p, const char* live, int64_t n,
                       const float* v, int64_t D, float* acc) {
  for (int64_t c = 0; c < n; ++c)
    if (live[c])
      for (int64_t j = 0; j < D; ++j) acc[j] += p[c] * v[c * D + j];
}

#if defined(__x86_64__)
#define QEFF_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

// s[c] = q . k[c] (D = 16 kV) for the live c < n: q in registers, 4 slots
// at a time (4 independent chains, one shared lane reduction).
template <int kV>
QEFF_AVX512 void KeyDotsAvx512(const float* q, const float* k, const char* live,
                               int64_t n, float* s) {
  __m512 qv[kV];
  QEFF_UNROLL
  for (int u = 0; u < kV; ++u) qv[u] = _mm512_loadu_ps(q + 16 * u);
  int64_t idx[4];
  int m = 0;
  for (int64_t c = 0; c <= n; ++c) {
    if (c < n && live[c]) idx[m++] = c;
    if (m < 4 && c < n) continue;
    if (m == 0) break;
    for (int t = m; t < 4; ++t) idx[t] = idx[0];  // padding repeats a slot
    __m512 a[4];
    QEFF_UNROLL
    for (int t = 0; t < 4; ++t) {
      const float* kr = k + idx[t] * 16 * kV;
      a[t] = _mm512_mul_ps(qv[0], _mm512_loadu_ps(kr));
      QEFF_UNROLL
      for (int u = 1; u < kV; ++u)
        a[t] = _mm512_fmadd_ps(qv[u], _mm512_loadu_ps(kr + 16 * u), a[t]);
    }
    // Lanes of 4 vectors to 4 sums: pairwise adds, then the 128-bit lanes
    // (lane L of t holds partial sums of slots 0..3).
    const __m512 t01 = _mm512_add_ps(_mm512_unpacklo_ps(a[0], a[1]),
                                     _mm512_unpackhi_ps(a[0], a[1]));
    const __m512 t23 = _mm512_add_ps(_mm512_unpacklo_ps(a[2], a[3]),
                                     _mm512_unpackhi_ps(a[2], a[3]));
    const __m512 t =
        _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(
                          _mm512_castps_pd(t01), _mm512_castps_pd(t23))),
                      _mm512_castpd_ps(_mm512_unpackhi_pd(
                          _mm512_castps_pd(t01), _mm512_castps_pd(t23))));
    const __m256 h =
        _mm256_add_ps(_mm512_castps512_ps256(t), _mm512_extractf32x8_ps(t, 1));
    const __m128 r =
        _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    alignas(16) float out[4];
    _mm_store_ps(out, r);
    for (int t2 = 0; t2 < m; ++t2) s[idx[t2]] = out[t2];
    m = 0;
  }
}

// acc [16 kV] += p[c] v[c] over the live c < n, the accumulators kept in
// registers (each lane the same fma chain as the portable loop).
template <int kV>
QEFF_AVX512 void AddValuesAvx512(const float* p, const char* live, int64_t n,
                                 const float* v, float* acc) {
  __m512 a[kV];
  QEFF_UNROLL
  for (int u = 0; u < kV; ++u) a[u] = _mm512_setzero_ps();
  for (int64_t c = 0; c < n; ++c) {
    if (!live[c]) continue;
    const __m512 pv = _mm512_set1_ps(p[c]);
    const float* vr = v + c * 16 * kV;
    QEFF_UNROLL
    for (int u = 0; u < kV; ++u)
      a[u] = _mm512_fmadd_ps(pv, _mm512_loadu_ps(vr + 16 * u), a[u]);
  }
  QEFF_UNROLL
  for (int u = 0; u < kV; ++u) _mm512_storeu_ps(acc + 16 * u, a[u]);
}
#endif

// Attention over an f32 cache (attention_internal.h has the contract).
absl::Status Attention(const KernelCtx& k) {
  const int64_t D = k.in[0].dims()[3];
  const float* kc = k.in[1].in<float>();
  const float* vc = k.in[2].in<float>();
#if defined(__x86_64__)
  using AddFn =
      void (*)(const float*, const char*, int64_t, const float*, float*);
  using DotsFn =
      void (*)(const float*, const float*, const char*, int64_t, float*);
  const bool avx512 = linear::HasAvx512();
  const AddFn add = !avx512    ? nullptr
                    : D == 64  ? AddValuesAvx512<4>
                    : D == 128 ? AddValuesAvx512<8>
                    : D == 256 ? AddValuesAvx512<16>
                               : nullptr;
  const DotsFn dots = !avx512    ? nullptr
                      : D == 64  ? KeyDotsAvx512<4>
                      : D == 128 ? KeyDotsAvx512<8>
                      : D == 256 ? KeyDotsAvx512<16>
                                 : nullptr;
  if (add && dots)
    return AttendOverCache(
        k,
        [&](const float* qr, const char* live, int64_t n, int64_t slot0,
            float* sc, float*) { dots(qr, kc + slot0 * D, live, n, sc); },
        [&](const float* p, const char* live, int64_t n, int64_t slot0,
            float* acc, float*) { add(p, live, n, vc + slot0 * D, acc); });
#endif
  return AttendOverCache(
      k,
      [&](const float* qr, const char* live, int64_t n, int64_t slot0,
          float* sc, float*) {
        for (int64_t c = 0; c < n; ++c)
          if (live[c]) sc[c] = Dot(qr, kc + (slot0 + c) * D, D);
      },
      [&](const float* p, const char* live, int64_t n, int64_t slot0,
          float* acc,
          float*) { AddValuesPortable(p, live, n, vc + slot0 * D, D, acc); });
}

}  // namespace

void RegisterLinearKernels() {
  RegisterKernel("Linear", Linear);
  RegisterKernel("Attention", Attention);
}

}  // namespace qeff::hw::cpu
