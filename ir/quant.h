// Block quantization formats of weights: dequantization of every format in
// ir::QuantFormat and quantization (reference round-to-nearest) of
// Q8_0, Q4_0, MXFP6 and MXINT8.
//
// A quantized tensor's bytes are rows of blocks along its last dimension
// (ir/tensor.h). Block layouts:
//
// GGUF (exactly llama.cpp's ggml-common.h / ggml-quants.c, little-endian):
//   Q8_0  (34 B / 32 values): f16 d; int8 qs[32];          x[j] = d * qs[j]
//   Q4_0  (18 B / 32 values): f16 d; uint8 qs[16];
//         x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8)
//   Q4_K  (144 B / 256): f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]
//   Q5_K  (176 B / 256): f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32];
//                        uint8 qs[128]
//   Q6_K  (210 B / 256): uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d
//   (K-quants decode as dequantize_row_q4_K/q5_K/q6_K, with 6-bit packed
//   sub-block scales and mins read by get_scale_min_k4.)
//
// OCP Microscaling (MX) formats, OCP "Microscaling Formats (MX) Specification"
// v1.0: a block of 32 elements shares one E8M0 scale X = 2^(byte - 127)
// (byte 0xFF is NaN). qeff's byte layout (the spec fixes the encodings, not
// the packing):
//   MXFP6  (25 B / 32): byte 0 = E8M0 scale; bytes 1..24 = 32 FP6 E2M3 codes
//          (sign bit 5, exponent bits 4..3 with bias 1, mantissa bits 2..0;
//          exponent 0 is subnormal m/8; max 7.5) packed as a little-endian
//          bit stream: code i occupies stream bits [6i, 6i + 6), stream bit k
//          being bit (k % 8) of byte 1 + k / 8.
//   MXINT8 (33 B / 32): byte 0 = E8M0 scale; bytes 1..32 = int8 q;
//          x = X * q * 2^-6.
// MX quantization follows the spec's conversion: shared exponent
// floor(log2(amax)) - emax_elem (emax 2 for E2M3, 0 for INT8), clamped to
// E8M0's range; elements round to nearest (ties to even) and saturate
// (MXINT8 to +-127).
#ifndef QEFF_IR_QUANT_H_
#define QEFF_IR_QUANT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "ir/dtype.h"
#include "ir/tensor.h"

namespace qeff::ir {

// A quantized tensor -> a plain f32 tensor of the same logical dims.
absl::StatusOr<Tensor> Dequantize(const Tensor& q);

// A plain float tensor (f32/f16/bf16/f64) -> a quantized tensor with
// logical dtype f32; the last dim must be a multiple of the block size.
// Supports kQ8_0, kQ4_0, kMXFP6, kMXINT8; others are Unimplemented.
absl::StatusOr<Tensor> Quantize(const Tensor& f, QuantFormat format);

// Single-block primitives (for tests and drivers). `out` gets
// QuantInfo(format).block_values floats.
absl::Status DequantizeBlock(QuantFormat format, const uint8_t* block,
                             float* out);
absl::Status QuantizeBlock(QuantFormat format, const float* in, uint8_t* block);

// FP6 E2M3 code (low 6 bits) <-> value; E8M0 byte <-> scale.
float Fp6E2M3ToFloat(uint8_t code);
float E8M0ToFloat(uint8_t e);

// A Q4_K block's 8 sub-blocks of 32 values: value v of sub-block s is
// d8[s] * q - m8[s] (q its 4-bit quant), with d8[s] = d * scale_s and
// m8[s] = dmin * min_s as ggml's dequantize_row_q4_K computes them. The
// quants of sub-block s are the low (s even) or high (s odd) nibbles of
// bytes [16 + 32 (s / 2), +32) of the block.
void Q4KSubBlockScales(const uint8_t* block, float* d8, float* m8);

}  // namespace qeff::ir

#endif  // QEFF_IR_QUANT_H_
