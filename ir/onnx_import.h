// ONNX import: reads an ONNX model (IR ≤ 8, ai.onnx opset ≤ 17 plus qeff's
// custom domains com.qualcomm.cloud and com.qti.aisw.onnx) into an
// ir::Graph.
//
// What it checks: the protobuf parses (models up to 2 GB), the opsets are
// supported, every ai.onnx node matches its ONNX schema at the model's opset
// (op known, attribute names and types), custom-domain nodes are qeff ops,
// and onnx::checker accepts the model. Control flow (If/Loop/Scan) and graph
// or sparse-tensor attributes are rejected, naming the node. Every error
// names the file, the node or the tensor.
//
// What it produces: initializers become constant values (external data is
// memory-mapped, zero-copy, relative to the model's directory); graph input,
// output and value_info types become value types (dim_value → static,
// dim_param → ir::Dim::Parse, so "(ctx_len - 1)" round-trips; missing → `?`).
// Node and value names are kept. Constant nodes stay nodes. Model-local
// functions of the custom domains are ignored (the IR has those ops natively)
// unless ImportOptions::inline_functions asks to expand them.
//
// It does not run qeff shape inference (ir/op_schema.h does), so values the
// file gives no type for keep the default type (f32, unranked).
#ifndef QEFF_IR_ONNX_IMPORT_H_
#define QEFF_IR_ONNX_IMPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace qeff::ir {

struct ImportOptions {
  // Expand every node that calls a model-local function (any domain) into
  // the function's body nodes, instead of keeping it as one node. Used to
  // test exported custom-op decompositions against native kernels.
  bool inline_functions = false;
  // Run onnx::checker::check_model on the model (it is always schema-checked
  // node by node as well).
  bool run_checker = true;
};

// Reads the file at `path`; external data is resolved relative to its
// directory.
absl::StatusOr<Graph> ImportOnnx(const std::string& path,
                                 const ImportOptions& options = {});

// Parses serialized ModelProto bytes. `model_dir` resolves external data
// ("" → the current directory); `source` names the model in errors.
absl::StatusOr<Graph> ImportOnnxFromBytes(
    absl::string_view bytes, const std::string& model_dir,
    const ImportOptions& options = {}, const std::string& source = "<bytes>");

// Imports a parsed model.
absl::StatusOr<Graph> ImportOnnxModel(const onnx::ModelProto& model,
                                      const std::string& model_dir,
                                      const ImportOptions& options = {},
                                      const std::string& source = "<model>");

// Reads a file holding one serialized TensorProto (as ONNX's test data
// sets do: input_0.pb ...). String and external-data tensors are errors.
absl::StatusOr<Tensor> ImportOnnxTensor(const std::string& path);

}  // namespace qeff::ir

#endif  // QEFF_IR_ONNX_IMPORT_H_
