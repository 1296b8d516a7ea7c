// The reference evaluator: runs any graph in qeff's op set plainly and
// exactly — wide accumulation (double for float reductions and matmuls),
// each op's output rounded to its dtype — so it agrees with onnxruntime and
// with ONNX's own test data. It is the oracle for every later test and the
// engine of the `reference` driver. It is not fast and does not try to be.
//
// Semantics (ir/evaluator.cc, ir/kernels/*.cc):
// - ONNX opset-17 semantics with numpy broadcasting; older forms that ONNX's
//   test data still uses are accepted too (Unsqueeze/Squeeze/Reduce* axes as
//   attribute or input, Split sizes as attribute or input, Softmax before
//   opset 13 when Graph::opsets says so).
// - Output dtypes follow ONNX's type rules inside each kernel (Cast's `to`,
//   bool for comparisons, int64 for Shape/ArgMax/TopK indices, ...); the
//   graph's value types are not consulted, so unset types are fine.
// - Floats compute in double and round once to the output dtype (f16/bf16
//   round to nearest even); integers compute in int64 and wrap to their
//   width; integer division truncates toward zero, x / 0 gives 0.
// - Quantized constants (Tensor::is_quantized()) and quantized feeds are
//   dequantized with ir/quant.h when a node reads them (f32, then rounded to
//   the logical dtype).
// - Custom ops (CustomRMSNorm, CtxScatter/CtxGather and their CB forms):
//   exact specification in ir/custom_ops.h.
// - Every kernel is registered by one std::call_once on the first
//   FindKernel; linking //ir:evaluator is enough. RegisterKernel may add or
//   replace kernels afterwards (tests, experiments).
// - Errors name the node (Node::Describe()); an op without a kernel is
//   kUnimplemented.
#ifndef QEFF_IR_EVALUATOR_H_
#define QEFF_IR_EVALUATOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace qeff::ir {

// What a kernel sees: the node (attributes, domain, op) and its input
// tensors (nullptr for an omitted optional input). Output dtypes come from
// the node's output value types where known; kernels compute shapes from the
// actual inputs.
struct KernelContext {
  const Graph& graph;
  const Node& node;
  std::vector<const Tensor*> inputs;
  const Tensor* input(int i) const {
    return i < static_cast<int>(inputs.size()) ? inputs[i] : nullptr;
  }
};

using Kernel =
    std::function<absl::Status(const KernelContext&, std::vector<Tensor>*)>;

// Registry of evaluator kernels by (domain, op_type).
void RegisterKernel(absl::string_view domain, absl::string_view op_type,
                    Kernel k);
const Kernel* FindKernel(absl::string_view domain, absl::string_view op_type);

class Evaluator {
 public:
  // Runs the graph. `inputs` by graph-input name; every graph input without
  // a value is an error naming it. Returns the graph outputs in order.
  static absl::StatusOr<std::vector<Tensor>> Run(
      const Graph& g, const absl::flat_hash_map<std::string, Tensor>& inputs);
  // Runs the graph and also returns every intermediate value by id (for
  // debugging and comparing graphs).
  static absl::StatusOr<absl::flat_hash_map<ValueId, Tensor>> RunAll(
      const Graph& g, const absl::flat_hash_map<std::string, Tensor>& inputs);
};

}  // namespace qeff::ir

#endif  // QEFF_IR_EVALUATOR_H_
