// Internal to ONNX import/export: the model-local ONNX functions that
// decompose qeff's custom ops into standard ONNX ops (opset 17), so that
// stock onnxruntime runs an exported model. Each body implements exactly the
// op's specification in ir/custom_ops.h on every valid input (DESIGN.md
// "Custom ops"); onnx_io_test checks each, inlined and run by the reference
// evaluator, against the evaluator's native kernel.
//
// The scatters are one ScatterND whose duplicate indices always carry
// identical values (ScatterND's order for duplicates is unspecified):
// duplicate real positions carry the last one's update, a padding entry is
// redirected to its row's last real position with that position's update,
// and an idle (all-padding) row rewrites slot C-1 with its own value.
// Valid input for CtxScatterCB has distinct batch_index rows.
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
