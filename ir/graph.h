// The model graph: nodes and values in arenas with stable integer ids.
// Each value knows its producer (or that it is a graph input or a constant
// initializer) and its uses; an omitted optional input is kNoValue. Names are
// metadata: they need not be unique in memory and are made unique on export.
// References to values and nodes stay valid while the graph grows.
// Removing a node tombstones it (ids stay valid); Compact() is never needed
// for correctness. Copying a Graph copies nodes and values; constant tensors
// share their storage, so one loaded model feeds many transforms.
//
// The graph does not run shape inference itself (ir/op_schema.h does) and
// holds no control flow: If/Loop/Scan are rejected on import.
#ifndef QEFF_IR_GRAPH_H_
#define QEFF_IR_GRAPH_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ir/dtype.h"
#include "ir/shape.h"
#include "ir/tensor.h"

namespace qeff::ir {

using ValueId = int32_t;
using NodeId = int32_t;
inline constexpr ValueId kNoValue = -1;
inline constexpr NodeId kNoNode = -1;

// ONNX domains qeff uses.
inline constexpr absl::string_view kOnnxDomain = "";
inline constexpr absl::string_view kQaicDomain = "com.qualcomm.cloud";
inline constexpr absl::string_view kQtiDomain = "com.qti.aisw.onnx";

struct TensorType {
  DType dtype = DType::kF32;
  Shape shape = Shape::Unranked();
  bool operator==(const TensorType& o) const {
    return dtype == o.dtype && shape == o.shape;
  }
  bool operator!=(const TensorType& o) const { return !(*this == o); }
  std::string ToString() const;  // "f32[2, seq_len]"
};

// An attribute value: a closed set of types, validated on import, so passes
// never meet a malformed attribute. Graph attributes are not representable.
class Attribute {
 public:
  enum class Kind : uint8_t {
    kInt,
    kFloat,
    kString,
    kTensor,
    kInts,
    kFloats,
    kStrings
  };

  Attribute() : v_(int64_t{0}) {}
  static Attribute Int(int64_t v) { return Attribute(v); }
  static Attribute Float(float v) { return Attribute(v); }
  static Attribute String(std::string v) { return Attribute(std::move(v)); }
  static Attribute TensorValue(Tensor v) { return Attribute(std::move(v)); }
  static Attribute Ints(std::vector<int64_t> v) {
    return Attribute(std::move(v));
  }
  static Attribute Floats(std::vector<float> v) {
    return Attribute(std::move(v));
  }
  static Attribute Strings(std::vector<std::string> v) {
    return Attribute(std::move(v));
  }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  int64_t i() const { return std::get<int64_t>(v_); }
  float f() const { return std::get<float>(v_); }
  const std::string& s() const { return std::get<std::string>(v_); }
  const Tensor& t() const { return std::get<Tensor>(v_); }
  const std::vector<int64_t>& ints() const {
    return std::get<std::vector<int64_t>>(v_);
  }
  const std::vector<float>& floats() const {
    return std::get<std::vector<float>>(v_);
  }
  const std::vector<std::string>& strings() const {
    return std::get<std::vector<std::string>>(v_);
  }

 private:
  template <typename T>
  explicit Attribute(T v) : v_(std::move(v)) {}
  std::variant<int64_t, float, std::string, Tensor, std::vector<int64_t>,
               std::vector<float>, std::vector<std::string>>
      v_;
};

absl::string_view AttributeKindName(Attribute::Kind k);

struct Use {
  NodeId node;
  int input_index;
  bool operator==(const Use& o) const {
    return node == o.node && input_index == o.input_index;
  }
};

struct Value {
  ValueId id = kNoValue;
  std::string name;
  TensorType type;
  NodeId producer = kNoNode;  // kNoNode: a graph input or a constant
  int producer_output = 0;
  std::vector<Use> uses;
  std::optional<Tensor> constant;  // initializer data
  bool is_graph_input = false;
  bool is_graph_output = false;

  bool is_constant() const { return constant.has_value(); }
};

struct Node {
  NodeId id = kNoNode;
  std::string name;
  std::string domain;  // "" for ai.onnx
  std::string op_type;
  std::vector<ValueId> inputs;  // kNoValue for an omitted optional input
  std::vector<ValueId> outputs;
  std::map<std::string, Attribute> attrs;  // sorted: stable printing
  bool dead = false;

  const Attribute* attr(absl::string_view n) const;
  int64_t GetInt(absl::string_view n, int64_t dflt) const;
  float GetFloat(absl::string_view n, float dflt) const;
  std::string GetString(absl::string_view n, absl::string_view dflt) const;
  std::vector<int64_t> GetInts(absl::string_view n,
                               std::vector<int64_t> dflt = {}) const;
  bool has_input(int i) const {
    return i < static_cast<int>(inputs.size()) && inputs[i] != kNoValue;
  }
  // "MatMul 'layers.0.attn.q_proj' (#12)" for error messages.
  std::string Describe() const;
};

class Graph {
 public:
  std::string name = "main";
  // Opset versions by domain; "" (ai.onnx) defaults to 17.
  std::map<std::string, int64_t> opsets = {{"", 17}};

  // --- construction ---
  ValueId AddInput(std::string name, TensorType type);
  ValueId AddConstant(std::string name, Tensor t);
  // Adds a node; creates `num_outputs` fresh output values (type unset:
  // shape inference fills them) named after `name`.
  NodeId AddNode(std::string op_type, std::vector<ValueId> inputs,
                 int num_outputs = 1,
                 std::map<std::string, Attribute> attrs = {},
                 std::string name = "", std::string domain = "");
  void AddOutput(ValueId v);
  void SetOutputs(std::vector<ValueId> outs);
  void SetInputs(std::vector<ValueId> ins);  // reorders/replaces graph inputs

  // --- access ---
  const Value& value(ValueId id) const { return values_[id]; }
  Value& value(ValueId id) { return values_[id]; }
  const Node& node(NodeId id) const { return nodes_[id]; }
  Node& node(NodeId id) { return nodes_[id]; }
  int num_values() const { return static_cast<int>(values_.size()); }
  int num_nodes() const {
    return static_cast<int>(nodes_.size());
  }  // incl. dead
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  // Live node ids in insertion order.
  std::vector<NodeId> LiveNodes() const;
  // Live constant values in id order.
  std::vector<ValueId> Constants() const;
  // First graph input / output / any value with this name.
  std::optional<ValueId> FindInput(absl::string_view name) const;
  std::optional<ValueId> FindOutput(absl::string_view name) const;
  // Producer node of a value, or nullptr.
  const Node* Producer(ValueId v) const;

  // --- mutation ---
  void SetNodeInput(NodeId n, int index, ValueId v);
  // Points every use of `from` (and a graph-output slot) at `to`.
  void ReplaceAllUsesWith(ValueId from, ValueId to);
  // Tombstones a node and drops it from its inputs' use lists. Its outputs
  // must be unused (QEFF_CHECK).
  void RemoveNode(NodeId n);
  // Removes live nodes whose outputs are unused and not graph outputs, and
  // constants nobody uses. Returns whether anything was removed.
  bool RemoveDeadCode();

  // Nodes in an order where producers come first; an error names a node on
  // a cycle.
  absl::StatusOr<std::vector<NodeId>> TopologicalOrder() const;

 private:
  ValueId NewValue(std::string name);
  // Deques: adding values or nodes never invalidates references to existing
  // ones, so passes may hold `const Value&` across insertions.
  std::deque<Value> values_;
  std::deque<Node> nodes_;
  std::vector<ValueId> inputs_;
  std::vector<ValueId> outputs_;
};

}  // namespace qeff::ir

#endif  // QEFF_IR_GRAPH_H_
