// Op schemas: for each (domain, op_type) the input/output arity, the
// attributes with their kinds, and a shape-inference function. Inference
// works on symbolic shapes; where an op's output shape depends on the data of
// an input (Reshape's shape, Slice's starts, Range's limits …) it reads that
// input when it is a constant, or when "value inference" knows the input's
// data symbolically (see SymbolicValueMap), and yields `?` dims otherwise.
#ifndef QEFF_IR_OP_SCHEMA_H_
#define QEFF_IR_OP_SCHEMA_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ir/graph.h"

namespace qeff::ir {

// Value inference: the known elements of small integer tensors (rank 0 or 1,
// at most kMaxSymbolicValueElements elements) as dims, e.g. the output of
// Shape(x) is `[batch, seq_len, 64]`; Concat/Gather/Slice/Unsqueeze/Squeeze/
// Cast/Reshape/Identity and integer Add/Sub/Mul/Div of such values propagate
// them, so that `Reshape(x, Concat(Shape(x)[0:2], [8, 64]))` infers
// `[batch, seq_len, 8, 64]`. An element may be `?` (unknown). Keyed by value.
using SymbolicValueMap = absl::flat_hash_map<ValueId, std::vector<Dim>>;
inline constexpr int64_t kMaxSymbolicValueElements = 1024;

class InferenceContext {
 public:
  InferenceContext(const Graph& g, const Node& n) : graph_(g), node_(n) {}
  // With the symbolic values known so far (may be nullptr).
  InferenceContext(const Graph& g, const Node& n,
                   const SymbolicValueMap* values)
      : graph_(g), node_(n), values_(values) {}
  const Graph& graph() const { return graph_; }
  const Node& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(node_.inputs.size()); }
  bool has_input(int i) const { return node_.has_input(i); }
  const TensorType& input_type(int i) const {
    return graph_.value(node_.inputs[i]).type;
  }
  // The input's data when it is a constant initializer, else nullptr.
  const Tensor* input_constant(int i) const;
  int num_outputs() const { return static_cast<int>(node_.outputs.size()); }
  // The input's data as dims, when known: from a constant (integer dtype,
  // rank <= 1, small) or from the symbolic value map. nullptr otherwise.
  const std::vector<Dim>* input_dims_value(int i) const;
  // Same, but only when every element is static.
  std::optional<std::vector<int64_t>> input_static_ints(int i) const;
  // Results, one per output; sized num_outputs() by the caller.
  std::vector<TensorType> outputs;
  // Symbolic values of outputs that inference could compute (same size as
  // `outputs`; nullopt when unknown).
  std::vector<std::optional<std::vector<Dim>>> output_values;
  void set_output_dims_value(int i, std::vector<Dim> v);
  const std::vector<Dim>* output_dims_value(int i) const;

 private:
  const Graph& graph_;
  const Node& node_;
  const SymbolicValueMap* values_ = nullptr;
  // Constant inputs converted to dims (stable addresses).
  mutable std::map<int, std::vector<Dim>> const_dims_;
};

struct AttrSpec {
  std::string name;
  Attribute::Kind kind;
  bool required = false;
};

// max_inputs / max_outputs of variadic ops.
inline constexpr int kVariadic = 1 << 20;

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

// The ai.onnx ops every layer must support (the IR's contract: each has a
// schema, an evaluator kernel and passes ONNX's own node tests).
const std::vector<std::string>& RequiredOnnxOps();

// nullptr when qeff does not know the op.
const OpSchema* FindOpSchema(absl::string_view domain,
                             absl::string_view op_type);
// All registered schemas (for listings and tests).
std::vector<const OpSchema*> AllOpSchemas();

// Checks the node against its schema (arity, attribute names and kinds) and
// sets its output types. Errors name the node.
//
// An inferred `?` dim (or an unranked shape) does not overwrite what the
// value already holds when the dtype and rank agree: a more specific stored
// shape (e.g. from ONNX value_info) is kept, as ONNX's inference merges.
absl::Status InferNode(Graph& g, NodeId n);
// Same, reading and recording symbolic values in `values` (may be nullptr).
absl::Status InferNode(Graph& g, NodeId n, SymbolicValueMap* values);
// Runs the node's inference without changing the graph; the context holds
// the results. Checks arity and attributes first. Errors name the node.
absl::Status InferNodeTypes(const Graph& g, NodeId n,
                            const SymbolicValueMap* values,
                            InferenceContext* ctx);
// InferNode over the graph in topological order.
absl::Status InferShapes(Graph& g);
// Same, and returns the symbolic values of every value it learned (graph
// passes that fold Shape/Range use it).
absl::Status InferShapes(Graph& g, SymbolicValueMap* values);

// Numpy broadcasting of two dims / shapes: equal dims stay; a static 1
// takes the other; a static dim other than 1 wins over a symbolic or
// unknown one; otherwise `?`. Two different static dims (neither 1) are an
// error.
absl::StatusOr<Dim> BroadcastDim(const Dim& a, const Dim& b);
absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b);

}  // namespace qeff::ir

#endif  // QEFF_IR_OP_SCHEMA_H_
