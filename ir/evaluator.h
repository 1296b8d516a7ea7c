// The reference evaluator: runs any graph in qeff's op set plainly and
// exactly — wide accumulation (double for float reductions and matmuls),
// each op's output rounded to its dtype — so it agrees with onnxruntime and
// with ONNX's own test data. It is the oracle for every later test and the
// engine of the `reference` driver. It is not fast and does not try to be.
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
