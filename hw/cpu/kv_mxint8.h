// `mxint8_kv_cache` on the cpu driver: the retained-state KV cache is stored
// as OCP MXINT8 blocks (ir/quant.h) along head_dim, and the kernels that
// touch it read and write those blocks directly.
//
// Storage of a state [B, Hkv, C, D] (logical dtype f32): B*Hkv*C rows, one
// per (batch row, kv head, position); each row is ceil(D / 32) MXINT8 blocks
// of 33 bytes (E8M0 scale byte, then 32 int8). When D is not a multiple of
// 32 the row's last block is zero-padded (the padding quantizes to 0 and is
// never read back); e.g. D = 16 stores 16 values in one 33-byte block.
// All-zero bytes decode to 0.0, so a zeroed buffer is an empty cache.
//
// The plan rewrite (after lowering, per specialization):
//   - in-place CtxScatter / CtxScatterCB on a state -> CtxScatterMx /
//     CtxScatterCBMx: each new row is quantized (round to nearest even,
//     saturating, as ir::QuantizeBlock) and written in place;
//   - fused Attention whose key and value caches are states -> AttentionMx,
//     which dequantizes each cached row inside the kernel;
//   - a Copy into a state -> MxQuantize (f32 -> blocks);
//   - any other step reading a state gets an MxDequantize step into a fresh
//     f32 arena buffer first (correct for any graph; the fused path above
//     never needs it for the transform_lm graphs).
// State at the session interface: Session::Run never exposes state, and the
// graph's state I/O stay f32 logically; custom_io.yaml says `mxint8`.
#ifndef QEFF_HW_CPU_KV_MXINT8_H_
#define QEFF_HW_CPU_KV_MXINT8_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "hw/cpu/plan.h"

namespace qeff::hw::cpu {

// Bytes of one cached row of `head_dim` values.
int64_t MxKvRowBytes(int64_t head_dim);
// Dims of the u8 tensor holding a state of logical dims [B, H, C, D].
std::vector<int64_t> MxKvStorageDims(const std::vector<int64_t>& dims);

// Checks that every retained state can be stored as MXINT8 (f32, rank 4);
// the error names the state.
absl::Status CheckMxInt8KvState(const CpuProgram& p);
// Rewrites `plan` (already lowered and arena-planned) as described above.
absl::Status RewritePlanForMxInt8Kv(const Specialization& spec, SpecPlan& plan);

// Row codecs (exposed for tests): `d` values <-> MxKvRowBytes(d) bytes.
void MxKvQuantizeRow(const float* x, int64_t d, uint8_t* row);
void MxKvDequantizeRow(const uint8_t* row, int64_t d, float* x);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_KV_MXINT8_H_
