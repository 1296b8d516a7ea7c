// ONNX export: writes an ir::Graph as an ONNX model (IR version 8, the
// graph's ai.onnx opset — 17 for graphs qeff builds) that stock onnxruntime
// runs.
//
// - Value names are made unique: graph inputs and outputs keep their names
//   when those are unique; empty or duplicate names get deterministic
//   `<name>__<n>` / `_v<id>` names. Non-empty duplicate node names likewise.
// - Dims: static → dim_value; symbolic and derived → dim_param in their text
//   form ("(ctx_len - 1)"); `?` → neither. Values with an unranked shape get
//   no value_info (their type is not known).
// - Constants > external_data_threshold bytes go to `<path>.data` (location
//   relative to the model's directory, 64-byte aligned offsets), unless
//   all_inline. A model whose protobuf would exceed 2 GB is an error.
// - Quantized constants are written dequantized (f32).
// - qeff custom ops (CtxScatter, CtxGather, CtxScatterCB, CtxGatherCB in
//   com.qualcomm.cloud, CustomRMSNorm in com.qti.aisw.onnx) are kept as
//   nodes of their domain, with model-local FunctionProto bodies of standard
//   ONNX ops (ir/onnx_functions.h) implementing DESIGN.md's semantics.
// - Files are written to temporary names, then renamed; then, with
//   `validate`, checked by onnx::checker::check_model and strict ONNX shape
//   inference. Errors name the file.
#ifndef QEFF_IR_ONNX_EXPORT_H_
#define QEFF_IR_ONNX_EXPORT_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "ir/graph.h"

namespace qeff::ir {

struct ExportOptions {
  // Constants with more bytes than this are stored in `<path>.data`.
  size_t external_data_threshold = 1024;
  // Keep every tensor inside the .onnx file (fails above 2 GB).
  bool all_inline = false;
  // Run onnx::checker and strict shape inference on the written file.
  bool validate = true;
};

absl::Status ExportOnnx(const Graph& g, const std::string& path,
                        const ExportOptions& options = {});

}  // namespace qeff::ir

#endif  // QEFF_IR_ONNX_EXPORT_H_
