// qeff's custom ops: the one specification that the reference evaluator
// (ir/kernels/custom_ops.cc), the cpu driver and the exported ONNX function
// bodies all implement (DESIGN.md "Custom ops"). All index inputs are int64.
//
// CustomRMSNorm (domain com.qti.aisw.onnx, version 1)
//   inputs:  x [..., D] (float type T), weight [D] (T)
//   attr:    epsilon (float, default 1e-6)
//   output:  y [..., D] (T) = x / sqrt(mean(x^2 over the last axis) + eps)
//            * weight; computed in double, rounded once to T.
//
// CtxScatter (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [B, H, C, D] (T), position_ids [B, S] (int64; a batch of
//            1 broadcasts over B), updates [B, H, S, D] (T)
//   output:  the new cache [B, H, C, D]: a copy of `cache` where for every
//            p = position_ids[b, s] >= 0, cache[b, :, p, :] = updates[b, :, s,
//            :]. A negative position writes nothing (padding; an idle
//            continuous-batching row has all -1). p >= C is an error.
//            Duplicate non-negative positions in a row: the later s wins.
//
// CtxGather (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [B, H, C, D] (T), ctx_indices [B, C'] or [1, C'] or [C']
//            (int64; the leading 1 / missing dim broadcasts over B)
//   output:  [B, H, C', D]: out[b, h, i, :] = cache[b, h, ctx_indices[b, i], :]
//            (a gather along axis 2). An index outside [0, C) is an error.
//
// CtxScatterCB (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [FB, H, C, D] (T), batch_index [B, 1] (int64),
//            position_ids [B, S] (int64), updates [B, H, S, D] (T)
//   output:  the new cache [FB, H, C, D]: for every p = position_ids[b, s]
//            >= 0, cache[batch_index[b, 0], :, p, :] = updates[b, :, s, :].
//            batch_index outside [0, FB) is an error for a row that writes.
//
// CtxGatherCB (domain com.qualcomm.cloud, version 1)
//   inputs:  cache [FB, H, C, D] (T), batch_index [B, 1] (int64),
//            ctx_indices [B, C'] or [1, C'] or [C'] (int64)
//   output:  [B, H, C', D]: out[b, h, i, :] =
//            cache[batch_index[b, 0], h, ctx_indices[b, i], :].
//
// Errors are absl::InvalidArgument naming the op (and node).
#ifndef QEFF_IR_CUSTOM_OPS_H_
#define QEFF_IR_CUSTOM_OPS_H_

#include "absl/strings/string_view.h"

namespace qeff::ir {

inline constexpr absl::string_view kCustomRMSNormOp = "CustomRMSNorm";
inline constexpr absl::string_view kCtxScatterOp = "CtxScatter";
inline constexpr absl::string_view kCtxGatherOp = "CtxGather";
inline constexpr absl::string_view kCtxScatterCBOp = "CtxScatterCB";
inline constexpr absl::string_view kCtxGatherCBOp = "CtxGatherCB";
inline constexpr float kCustomRMSNormDefaultEpsilon = 1e-6f;

}  // namespace qeff::ir

#endif  // QEFF_IR_CUSTOM_OPS_H_
