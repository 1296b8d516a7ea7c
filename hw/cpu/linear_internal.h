// Internals of the cpu driver's Linear kernel (kernels_linear.cc), shared by
// its instruction-set specific files (kernels_linear_avx512.cc,
// kernels_linear_bf16.cc, kernels_qlinear.cc) and their tests. Not part of the
// driver's interface.
//
// All paths split work over output features only; a
// (row, feature) result is a fixed computation of that row and that weight
// row (batch-invariant: it depends on neither M, the row's position, the
// tiling nor the thread count).
#ifndef QEFF_HW_CPU_LINEAR_INTERNAL_H_
#define QEFF_HW_CPU_LINEAR_INTERNAL_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "ir/dtype.h"
#include "ir/tensor.h"

// Fully unrolls a micro-kernel's fixed-size register loops (GCC otherwise
// keeps such accumulator arrays on the stack: 3x slower).
#define QEFF_UNROLL _Pragma("GCC unroll 16")

namespace qeff::hw::cpu::linear {

// y [M, N] = x [M, K] W^T (+ bias [N]); W [N, K] rows of row_bytes bytes.
struct LinearArgs {
  ir::DType dtype = ir::DType::kF32;
  ir::QuantFormat quant = ir::QuantFormat::kNone;
  int64_t block = 0;        // quantized: values per block
  int64_t block_bytes = 0;  // quantized: bytes per block
  const uint8_t* w = nullptr;
  int64_t row_bytes = 0;
  const float* x = nullptr;
  int64_t M = 0, K = 0;
  const float* bias = nullptr;  // may be null
  float* y = nullptr;
  int64_t N = 0;
};

// The arguments of one call (format fields left at their defaults).
inline LinearArgs CallArgs(const uint8_t* w, int64_t N, int64_t K,
                           const float* x, int64_t M, const float* bias,
                           float* y) {
  LinearArgs a;
  a.w = w;
  a.x = x;
  a.M = M;
  a.K = K;
  a.bias = bias;
  a.y = y;
  a.N = N;
  return a;
}

// y [M, N] = x [M, K] W^T (+ bias) for W [N, K] of `dtype` (f32/f16/bf16)
// or `quant` blocks, rows contiguous: the Linear kernel's computation (the
// fastest path the host has), also used per expert by the MoE kernel. An
// unsupported type or a K that is not a multiple of the block is an error.
absl::Status RunLinear(ir::DType dtype, ir::QuantFormat quant, const uint8_t* w,
                       int64_t N, int64_t K, const float* x, int64_t M,
                       const float* bias, float* y);

constexpr int64_t kFeatBlock = 16;  // output features per parallel work item
constexpr int64_t kChunk = 256;     // K values per cache block
constexpr int kPanelsPerItem = 4;   // panels of 16 features per work item
constexpr int64_t kItemFeat = 16 * kPanelsPerItem;

// Runs fn(jb, je) over feature ranges [jb, je) that are whole kFeatBlocks
// (the last may be shorter), in parallel, with a grain that keeps every
// core of the arena busy.
void ForFeatureBlocks(int64_t N,
                      const std::function<void(int64_t, int64_t)>& fn);

// The defined 16-lane reduction order (both the SIMD and the scalar paths):
// ((l + l+8) pairwise) -> 8 -> 4 -> 2 -> 1, as HSum16 of the AVX-512 code.
float HSum16(const float* lanes);

#if defined(__x86_64__)
// avx512f, avx512bw, avx512vl, avx512dq, fma, f16c.
bool HasAvx512();
// HasAvx512() and avx512vnni.
bool HasAvx512Vnni();
// HasAvx512() and avx512bf16.
bool HasAvx512Bf16();
#endif

// ---- f32 / f16 / bf16 / K-quant / MX weights, AVX-512 (16-lane) path.
// Needs K % 16 == 0 and quantized blocks that tile its 128-value chunks.
// "Lanes = features": each (row i, feature j) result is the f32 chain acc =
// fma(w[j][k], x[i][k], acc) over k ascending from 0 (weights decoded
// exactly: f16/bf16 conversion, ir::DequantizeBlock), then + bias[j] —
// exactly LinearFloatSpec, bit for bit, whatever M or the thread count.
bool FloatAvx512Applies(const LinearArgs& a);
void LinearFloatAvx512(const LinearArgs& a);
// The scalar specification of LinearFloatAvx512 on decoded weights w [N, K]
// (tests; portable).
void LinearFloatSpec(const LinearArgs& a, const float* w);

// ---- Panel-packed f32 / f16 / bf16 weights: the layout the cpu compiler
// gives every such Linear weight. f32 / f16: w [P, K, 16], P = ceil(N / 16):
// panel p holds features 16p .. 16p + 15 as w[p][k][l] = W[16p + l][k]
// (zeros past N), so a kernel reads 16 features of one k contiguously; same
// arithmetic as LinearFloatSpec, bit for bit, on every path; any K. bf16:
// PackBf16Pairs' layout and arithmetic (below). PackPanels picks by dtype.
ir::Tensor PackPanels(const ir::Tensor& w);  // [N, K] -> [P, PackedK, 16]
// The packed tensor's K extent: K, or for bf16 K rounded up to even.
int64_t PackedK(ir::DType dtype, int64_t K);
// y [M, N] = x [M, K] W^T (+ bias) for packed w (the fastest path the host
// has). An unsupported dtype is an error.
absl::Status RunPackedLinear(ir::DType dtype, const uint8_t* w, int64_t N,
                             int64_t K, const float* x, int64_t M,
                             const float* bias, float* y);
// The f32 / f16 paths (a.w packed; a.row_bytes unused): AVX-512
// (HasAvx512()) and portable. Both run bf16 through LinearPackedBf16.
void LinearPackedAvx512(const LinearArgs& a);
void LinearPackedPortable(const LinearArgs& a);

// ---- bf16 weights with bf16 activations ("bf16 pairs", as llama.cpp runs
// bf16 weights and as AVX-512 BF16's vdpbf16ps computes, at twice the f32
// FMA rate; kernels_linear_bf16.cc). Each activation is rounded to bf16
// once per call (ActivationToBf16); weights and activations go in pairs of
// consecutive k (Kp = PackedK: an odd K gets a zero pair partner). Per
// (row, feature) the result is the f32 chain, over pairs kp ascending from
// acc = 0, of acc = flush(fma(w[2kp + 1], x[2kp + 1], acc)) then acc =
// flush(fma(w[2kp], x[2kp], acc)) (flush: a denormal becomes a zero of its
// sign; bf16 denormal inputs count as zeros), then + bias — vdpbf16ps'
// documented semantics, checked bit for bit on this host's instruction.
// Not exact against f32 activations: each activation carries a relative
// rounding of at most 2^-9.
// Layout: w [P, Kp, 16] bf16 holding w[p][kp][l][e] = W[16p + l][2kp + e]
// (e = 0, 1; zeros past N and K; denormals flushed).
ir::Tensor PackBf16Pairs(const ir::Tensor& w);  // [N, K] -> [P, Kp, 16]
// RNE to bf16 (ir::FloatToBFloat16), a denormal result flushed.
uint16_t ActivationToBf16(float v);
// The scalar specification on row-major bf16 weights w [N, K] (tests).
void LinearBf16Spec(const LinearArgs& a, const uint16_t* w);
// kBest: vdpbf16ps where the host has AVX-512 BF16, else its AVX-512F
// emulation, else portable; the others force a path (tests; kDpbf16 falls
// back to portable on hosts without it).
enum class Bf16Path { kBest, kDpbf16, kEmulated, kPortable };
void LinearPackedBf16(const LinearArgs& a, Bf16Path path);

// y[i][jb .. je) = acc[i * kItemFeat + (j - jb)] (+ bias[j]) for every row
// i < a.M: a work item's accumulators (je - jb <= kItemFeat) written out.
void StoreItem(const LinearArgs& a, const float* acc, int64_t jb, int64_t je);

// Runs fn(p, np) over items of np <= kPanelsPerItem panels of 16 features
// starting at panel p, in parallel: about 4 items per core.
void ForPanelItems(int64_t N, const std::function<void(int64_t, int)>& fn);

// ---- Q8_0 / Q4_0 / Q4_K weights with int8 activations (as llama.cpp's
// vec_dot_q8_0_q8_0 / q4_0_q8_0). Each activation row is quantized once per
// call in blocks of 32: amax = max|x|, d = amax / 127, q = round-to-even(x /
// d) (d = 0: q = 0). Per (row, feature) and block b the integer dot isum_b
// is exact; the result is the f32 chain acc = fma(f32(isum_b), d_w * d_x,
// acc) over b ascending (one accumulator, no lane reduction); Q4_K per
// 32-value sub-block, with a second fma for its min (kernels_qlinear.cc
// has the exact chain; llama.cpp's q4_K_q8_K quantizes activations per 256
// instead, a small difference of rounding). The VNNI
// kernel (weights repacked per call into 16-feature panels, "lanes =
// features") and the scalar kernel compute bit-identical results. For few
// rows (decode) the VNNI path instead reads the original blocks directly
// (no per-call repacking, weights prefetched), with the same results.
bool QLinearApplies(const LinearArgs& a);
// kVnni picks kVnniDirect for small M and kVnniPacked otherwise; the forced
// variants exist for tests and benchmarks.
enum class QPath { kVnni, kVnniPacked, kVnniDirect, kScalar };
void LinearQ8Act(const LinearArgs& a, QPath path);

// ---- Panel-packed Q8_0 / Q4_0 / Q4_K weights: the layout the cpu compiler
// gives every such Linear weight (K a multiple of 32; Q4_K of 256), the
// layout the VNNI kernel reads, with the bytes of the original blocks (no
// larger). w [P, 16, K] (P = ceil(N / 16); the tensor keeps its format and
// byte count; features past N are zero). Panel p (features 16p..16p+15)
// is nb = K / 32 blocks of 32 values: first nb scale slots of 32 bytes,
// then nb quant slots of QB bytes (512 for Q8_0, 256 for Q4_0 / Q4_K).
// Quant slot of block b = vectors of 64 bytes, vector g holding in bytes
// 4f..4f+3 ("lanes = features") 4 quant bytes of feature f:
//   Q8_0: q + 128 of values 4g..4g+3 (g < 8);
//   Q4_0: stored bytes 4g..4g+3 (g < 4): low nibbles values 4g..,
//         high nibbles values 16 + 4g..;
//   Q4_K: slots of sub-blocks 2t, 2t + 1 together (512 bytes): the stored
//         bytes 4g..4g+3 (g < 8) of that pair, low nibbles sub-block 2t,
//         high nibbles 2t + 1.
// Scale slot: Q8_0 / Q4_0 the 16 features' f16 d; Q4_K: the 8 slots of a
// 256-value block hold its 16 header bytes (d, dmin, 12 scale bytes) as 4
// vectors, vector v bytes 4f.. = header bytes 4v..4v+3 of feature f.
// Results equal the row layout's (RunLinear on the original rows) bit for
// bit on every host: the VNNI kernel computes LinearQ8Act's specification;
// elsewhere each panel is unpacked to rows and run by RunLinear.
bool QPackApplies(ir::QuantFormat quant, int64_t K);
ir::Tensor PackQuantPanels(const ir::Tensor& w);  // [N, K] -> [P, 16, K]
// The inverse for one panel: 16 rows of K / block x block_bytes each.
void UnpackQuantPanel(ir::QuantFormat quant, const uint8_t* panel, int64_t K,
                      uint8_t* rows);
// y [M, N] = x W^T (+ bias) for packed w. kVnni: the VNNI kernel where the
// host has it, else the unpacked rows; kScalar forces the latter (tests).
absl::Status RunPackedQLinear(ir::QuantFormat quant, const uint8_t* w,
                              int64_t N, int64_t K, const float* x, int64_t M,
                              const float* bias, float* y,
                              QPath path = QPath::kVnni);

}  // namespace qeff::hw::cpu::linear

#endif  // QEFF_HW_CPU_LINEAR_INTERNAL_H_
