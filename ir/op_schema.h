// Op schemas: for each (domain, op_type) the input/output arity, the
// attributes with their kinds, and a shape-inference function. Inference
// works on symbolic shapes; where an op's output shape depends on the data of
// an input (Reshape's shape, Slice's starts, Range's limits …) it reads that
// input when it is a constant, and yields `?` dims otherwise.
#ifndef QEFF_IR_OP_SCHEMA_H_
#define QEFF_IR_OP_SCHEMA_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ir/graph.h"

namespace qeff::ir {

class InferenceContext {
 public:
  InferenceContext(const Graph& g, const Node& n) : graph_(g), node_(n) {}
  const Node& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(node_.inputs.size()); }
  bool has_input(int i) const { return node_.has_input(i); }
  const TensorType& input_type(int i) const {
    return graph_.value(node_.inputs[i]).type;
  }
  // The input's data when it is a constant initializer, else nullptr.
  const Tensor* input_constant(int i) const;
  int num_outputs() const { return static_cast<int>(node_.outputs.size()); }
  // Results, one per output; sized num_outputs() by the caller.
  std::vector<TensorType> outputs;

 private:
  const Graph& graph_;
  const Node& node_;
};

struct AttrSpec {
  std::string name;
  Attribute::Kind kind;
  bool required = false;
};

struct OpSchema {
  std::string domain;
  std::string op_type;
  int min_inputs = 0;
  int max_inputs = 0;
  int min_outputs = 1;
  int max_outputs = 1;
  std::vector<AttrSpec> attrs;
  std::function<absl::Status(InferenceContext&)> infer;
};

// nullptr when qeff does not know the op.
const OpSchema* FindOpSchema(absl::string_view domain,
                             absl::string_view op_type);
// All registered schemas (for listings and tests).
std::vector<const OpSchema*> AllOpSchemas();

// Checks the node against its schema (arity, attribute names and kinds) and
// sets its output types. Errors name the node.
absl::Status InferNode(Graph& g, NodeId n);
// InferNode over the graph in topological order.
absl::Status InferShapes(Graph& g);

}  // namespace qeff::ir

#endif  // QEFF_IR_OP_SCHEMA_H_
