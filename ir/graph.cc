#include "ir/graph.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace qeff::ir {

std::string TensorType::ToString() const {
  return absl::StrCat(DTypeName(dtype), shape.ToString());
}

absl::string_view AttributeKindName(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::kInt:
      return "int";
    case Attribute::Kind::kFloat:
      return "float";
    case Attribute::Kind::kString:
      return "string";
    case Attribute::Kind::kTensor:
      return "tensor";
    case Attribute::Kind::kInts:
      return "ints";
    case Attribute::Kind::kFloats:
      return "floats";
    case Attribute::Kind::kStrings:
      return "strings";
  }
  return "?";
}

const Attribute* Node::attr(absl::string_view n) const {
  auto it = attrs.find(std::string(n));
  return it == attrs.end() ? nullptr : &it->second;
}

int64_t Node::GetInt(absl::string_view n, int64_t dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind() == Attribute::Kind::kInt ? a->i() : dflt;
}

float Node::GetFloat(absl::string_view n, float dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind() == Attribute::Kind::kFloat ? a->f() : dflt;
}

std::string Node::GetString(absl::string_view n, absl::string_view dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind() == Attribute::Kind::kString ? a->s()
                                                    : std::string(dflt);
}

std::vector<int64_t> Node::GetInts(absl::string_view n,
                                   std::vector<int64_t> dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind() == Attribute::Kind::kInts ? a->ints() : dflt;
}

std::string Node::Describe() const {
  std::string op =
      domain.empty() ? op_type : absl::StrCat(domain, ".", op_type);
  if (name.empty()) return absl::StrCat(op, " (#", id, ")");
  return absl::StrCat(op, " '", name, "' (#", id, ")");
}

ValueId Graph::NewValue(std::string name) {
  Value v;
  v.id = static_cast<ValueId>(values_.size());
  v.name = std::move(name);
  values_.push_back(std::move(v));
  return values_.back().id;
}

ValueId Graph::AddInput(std::string name, TensorType type) {
  ValueId id = NewValue(std::move(name));
  values_[id].type = std::move(type);
  values_[id].is_graph_input = true;
  inputs_.push_back(id);
  return id;
}

ValueId Graph::AddConstant(std::string name, Tensor t) {
  ValueId id = NewValue(std::move(name));
  Value& v = values_[id];
  v.type.dtype = t.dtype();
  v.type.shape = Shape::Of(t.dims());
  v.constant = std::move(t);
  return id;
}

NodeId Graph::AddNode(std::string op_type, std::vector<ValueId> inputs,
                      int num_outputs, std::map<std::string, Attribute> attrs,
                      std::string name, std::string domain) {
  Node n;
  n.id = static_cast<NodeId>(nodes_.size());
  n.op_type = std::move(op_type);
  n.domain = std::move(domain);
  n.name = std::move(name);
  n.attrs = std::move(attrs);
  n.inputs = std::move(inputs);
  for (int i = 0; i < static_cast<int>(n.inputs.size()); ++i) {
    if (n.inputs[i] != kNoValue) values_[n.inputs[i]].uses.push_back({n.id, i});
  }
  for (int i = 0; i < num_outputs; ++i) {
    std::string vname =
        n.name.empty()
            ? std::string()
            : (num_outputs == 1 ? n.name : absl::StrCat(n.name, ":", i));
    ValueId v = NewValue(std::move(vname));
    values_[v].producer = n.id;
    values_[v].producer_output = i;
    n.outputs.push_back(v);
  }
  nodes_.push_back(std::move(n));
  return nodes_.back().id;
}

void Graph::AddOutput(ValueId v) {
  values_[v].is_graph_output = true;
  outputs_.push_back(v);
}

void Graph::SetOutputs(std::vector<ValueId> outs) {
  for (ValueId v : outputs_) values_[v].is_graph_output = false;
  outputs_.clear();
  for (ValueId v : outs) AddOutput(v);
}

void Graph::SetInputs(std::vector<ValueId> ins) {
  for (ValueId v : inputs_) values_[v].is_graph_input = false;
  inputs_ = std::move(ins);
  for (ValueId v : inputs_) values_[v].is_graph_input = true;
}

std::vector<NodeId> Graph::LiveNodes() const {
  std::vector<NodeId> out;
  for (const Node& n : nodes_)
    if (!n.dead) out.push_back(n.id);
  return out;
}

std::vector<ValueId> Graph::Constants() const {
  std::vector<ValueId> out;
  for (const Value& v : values_)
    if (v.is_constant() && (!v.uses.empty() || v.is_graph_output))
      out.push_back(v.id);
  return out;
}

std::optional<ValueId> Graph::FindInput(absl::string_view name) const {
  for (ValueId v : inputs_)
    if (values_[v].name == name) return v;
  return std::nullopt;
}

std::optional<ValueId> Graph::FindOutput(absl::string_view name) const {
  for (ValueId v : outputs_)
    if (values_[v].name == name) return v;
  return std::nullopt;
}

const Node* Graph::Producer(ValueId v) const {
  NodeId p = values_[v].producer;
  return p == kNoNode ? nullptr : &nodes_[p];
}

void Graph::SetNodeInput(NodeId n, int index, ValueId v) {
  Node& node = nodes_[n];
  if (index >= static_cast<int>(node.inputs.size()))
    node.inputs.resize(index + 1, kNoValue);
  ValueId old = node.inputs[index];
  if (old != kNoValue) {
    auto& uses = values_[old].uses;
    uses.erase(std::remove(uses.begin(), uses.end(), Use{n, index}),
               uses.end());
  }
  node.inputs[index] = v;
  if (v != kNoValue) values_[v].uses.push_back({n, index});
}

void Graph::ReplaceAllUsesWith(ValueId from, ValueId to) {
  if (from == to) return;
  std::vector<Use> uses = values_[from].uses;
  for (const Use& u : uses) SetNodeInput(u.node, u.input_index, to);
  for (ValueId& o : outputs_) {
    if (o == from) {
      o = to;
      values_[from].is_graph_output = false;
      values_[to].is_graph_output = true;
    }
  }
}

void Graph::RemoveNode(NodeId n) {
  Node& node = nodes_[n];
  if (node.dead) return;
  for (ValueId o : node.outputs) {
    QEFF_CHECK(values_[o].uses.empty() && !values_[o].is_graph_output);
  }
  for (int i = 0; i < static_cast<int>(node.inputs.size()); ++i) {
    if (node.inputs[i] != kNoValue) SetNodeInput(n, i, kNoValue);
  }
  node.dead = true;
}

bool Graph::RemoveDeadCode() {
  bool changed = false;
  bool again = true;
  while (again) {
    again = false;
    for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i) {
      Node& n = nodes_[i];
      if (n.dead) continue;
      bool used = false;
      for (ValueId o : n.outputs)
        used |= !values_[o].uses.empty() || values_[o].is_graph_output;
      if (!used) {
        RemoveNode(n.id);
        again = changed = true;
      }
    }
  }
  for (Value& v : values_) {
    if (v.is_constant() && v.uses.empty() && !v.is_graph_output &&
        !v.is_graph_input) {
      v.constant.reset();
      changed = true;
    }
  }
  return changed;
}

absl::StatusOr<std::vector<NodeId>> Graph::TopologicalOrder() const {
  // Kahn's algorithm, stable: ready nodes are taken in id order.
  std::vector<int> pending(nodes_.size(), 0);
  std::vector<NodeId> order;
  std::vector<NodeId> ready;
  for (const Node& n : nodes_) {
    if (n.dead) continue;
    int count = 0;
    for (ValueId in : n.inputs) {
      if (in != kNoValue && values_[in].producer != kNoNode &&
          !nodes_[values_[in].producer].dead)
        ++count;
    }
    pending[n.id] = count;
    if (count == 0) ready.push_back(n.id);
  }
  std::reverse(ready.begin(), ready.end());
  int live = 0;
  for (const Node& n : nodes_) live += !n.dead;
  while (!ready.empty()) {
    NodeId id = ready.back();
    ready.pop_back();
    order.push_back(id);
    std::vector<NodeId> newly;
    for (ValueId o : nodes_[id].outputs) {
      for (const Use& u : values_[o].uses) {
        if (nodes_[u.node].dead) continue;
        if (--pending[u.node] == 0) newly.push_back(u.node);
      }
    }
    std::sort(newly.begin(), newly.end(), std::greater<NodeId>());
    newly.erase(std::unique(newly.begin(), newly.end()), newly.end());
    // Keep the smallest id at the back of `ready`.
    ready.insert(ready.end(), newly.begin(), newly.end());
    std::sort(ready.begin(), ready.end(), std::greater<NodeId>());
  }
  if (static_cast<int>(order.size()) != live) {
    for (const Node& n : nodes_) {
      if (!n.dead && pending[n.id] > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph has a cycle through ", n.Describe()));
      }
    }
  }
  return order;
}

}  // namespace qeff::ir
