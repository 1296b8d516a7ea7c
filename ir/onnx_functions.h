// Internal to ONNX import/export: the model-local ONNX functions that
// decompose qeff's custom ops into standard ONNX ops (opset 17), so that
// stock onnxruntime runs an exported model. Each body implements exactly the
// op's specification in ir/custom_ops.h and DESIGN.md "Custom ops":
//
// - CtxScatter(data[B,H,C,D], position_ids[B,S], updates[B,H,S,D]): one
//   ScatterND whose duplicate indices always carry identical values: a
//   padding entry (position < 0) is redirected to its row's last real
//   position carrying that position's own update; an all-padding (idle) row
//   writes slot C-1 with the value already there.
// - CtxScatterCB(data[N,H,C,D], batch_index[B,1], position_ids, updates):
//   the same, on cache rows batch_index[b].
// - CtxGather(data[B,H,C,D], ctx_indices[..., N]) -> [B,H,N,D]:
//   out[b,h,n] = data[b,h,idx[b,h,n]] with idx broadcast to [B,H,N].
// - CtxGatherCB(data[N,H,C,D], batch_index[B,1], ctx_indices) -> [B,H,N,D]:
//   out[b,h,n] = data[batch_index[b],h,idx[b,h,n]].
// - CustomRMSNorm(x, weight; epsilon) = x / sqrt(mean(x², -1) + eps) * weight.
#ifndef QEFF_IR_ONNX_FUNCTIONS_H_
#define QEFF_IR_ONNX_FUNCTIONS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "onnx/onnx_pb.h"

namespace qeff::ir::onnx_internal {

// Whether (domain, op_type) is one of qeff's custom ops.
bool IsCustomOp(absl::string_view domain, absl::string_view op_type);

// The function body of a custom op; NotFound for other ops.
absl::StatusOr<onnx::FunctionProto> CustomOpFunction(absl::string_view domain,
                                                     absl::string_view op_type);

}  // namespace qeff::ir::onnx_internal

#endif  // QEFF_IR_ONNX_FUNCTIONS_H_
