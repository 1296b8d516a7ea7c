#include "ir/verifier.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/op_schema.h"

namespace qeff::ir {

namespace {

std::string DescribeValue(const Graph& g, ValueId v) {
  if (v < 0 || v >= g.num_values()) return absl::StrCat("%", v);
  const Value& val = g.value(v);
  return val.name.empty() ? absl::StrCat("%", v)
                          : absl::StrCat("%", val.name, " (#", v, ")");
}

absl::Status Fail(const std::string& msg) {
  return absl::FailedPreconditionError(absl::StrCat("graph verify: ", msg));
}

bool IsLive(const Graph& g, ValueId v) {
  const Value& val = g.value(v);
  if (val.producer == kNoNode) return val.is_graph_input || val.is_constant();
  return val.producer >= 0 && val.producer < g.num_nodes() &&
         !g.node(val.producer).dead;
}

// Whether `stored` is the inferred type or a more specific form of it.
bool Refines(const TensorType& stored, const TensorType& inferred) {
  if (stored.dtype != inferred.dtype) return false;
  if (!inferred.shape.ranked()) return true;
  if (!stored.shape.ranked()) return false;
  if (stored.shape.rank() != inferred.shape.rank()) return false;
  for (int i = 0; i < stored.shape.rank(); ++i) {
    const Dim& a = stored.shape[i];
    const Dim& b = inferred.shape[i];
    if (b.is_unknown()) continue;
    if (a.is_unknown() || a != b) return false;
  }
  return true;
}

absl::Status CheckValueRef(const Graph& g, const Node& n, ValueId v,
                           const char* what, int index) {
  if (v < 0 || v >= g.num_values()) {
    return Fail(absl::StrCat(n.Describe(), ": ", what, " ", index,
                             " refers to no value (%", v, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyGraph(const Graph& g) { return VerifyGraph(g, {}); }

absl::Status VerifyGraph(const Graph& g, const VerifyOptions& options) {
  auto backend = [&](const Node& n) {
    return options.backend_domains.count(n.domain) > 0;
  };
  // Values: constants, flags.
  for (ValueId v = 0; v < g.num_values(); ++v) {
    const Value& val = g.value(v);
    if (val.id != v)
      return Fail(
          absl::StrCat("value ", DescribeValue(g, v), " has id ", val.id));
    if (val.is_constant()) {
      if (val.producer != kNoNode)
        return Fail(absl::StrCat("constant ", DescribeValue(g, v),
                                 " also has a producer"));
      const Tensor& t = *val.constant;
      TensorType tt{t.dtype(), Shape::Of(t.dims())};
      if (val.type != tt)
        return Fail(absl::StrCat("constant ", DescribeValue(g, v), " has type ",
                                 val.type.ToString(), " but its tensor is ",
                                 t.TypeString()));
    }
  }
  for (ValueId v : g.inputs()) {
    if (v < 0 || v >= g.num_values())
      return Fail(absl::StrCat("graph input refers to no value (%", v, ")"));
    if (!g.value(v).is_graph_input || g.value(v).producer != kNoNode)
      return Fail(absl::StrCat("graph input ", DescribeValue(g, v),
                               " is not marked as an input or has a producer"));
  }
  for (ValueId v : g.outputs()) {
    if (v < 0 || v >= g.num_values())
      return Fail(absl::StrCat("graph output refers to no value (%", v, ")"));
    if (!g.value(v).is_graph_output)
      return Fail(absl::StrCat("graph output ", DescribeValue(g, v),
                               " is not marked as an output"));
    if (!IsLive(g, v))
      return Fail(absl::StrCat("graph output ", DescribeValue(g, v),
                               " is not produced by a live node"));
  }
  for (ValueId v = 0; v < g.num_values(); ++v) {
    const Value& val = g.value(v);
    if (val.is_graph_input &&
        std::find(g.inputs().begin(), g.inputs().end(), v) == g.inputs().end())
      return Fail(absl::StrCat(DescribeValue(g, v),
                               " is marked as a graph input but is not one"));
    if (val.is_graph_output && std::find(g.outputs().begin(), g.outputs().end(),
                                         v) == g.outputs().end())
      return Fail(absl::StrCat(DescribeValue(g, v),
                               " is marked as a graph output but is not one"));
  }

  // Nodes: schema, references, outputs.
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.dead) continue;
    if (n.id != id)
      return Fail(absl::StrCat(n.Describe(), " is stored at #", id));
    if (!backend(n) && FindOpSchema(n.domain, n.op_type) == nullptr)
      return Fail(absl::StrCat(n.Describe(), ": no schema for this op"));
    for (int i = 0; i < static_cast<int>(n.inputs.size()); ++i) {
      ValueId v = n.inputs[i];
      if (v == kNoValue) continue;
      QEFF_RETURN_IF_ERROR(CheckValueRef(g, n, v, "input", i));
      if (!IsLive(g, v)) {
        return Fail(absl::StrCat(n.Describe(), ": input ", i, " ",
                                 DescribeValue(g, v),
                                 " is dangling (its producer is removed, or "
                                 "it is neither an input nor a constant)"));
      }
      const auto& uses = g.value(v).uses;
      if (std::count(uses.begin(), uses.end(), Use{id, i}) != 1)
        return Fail(absl::StrCat(n.Describe(), ": input ", i, " ",
                                 DescribeValue(g, v),
                                 " does not list this use exactly once"));
    }
    for (int i = 0; i < static_cast<int>(n.outputs.size()); ++i) {
      ValueId v = n.outputs[i];
      QEFF_RETURN_IF_ERROR(CheckValueRef(g, n, v, "output", i));
      const Value& val = g.value(v);
      if (val.producer != id || val.producer_output != i)
        return Fail(absl::StrCat(n.Describe(), ": output ", i, " ",
                                 DescribeValue(g, v),
                                 " does not point back at this node"));
      if (val.is_constant() || val.is_graph_input)
        return Fail(absl::StrCat(n.Describe(), ": output ", i, " ",
                                 DescribeValue(g, v),
                                 " is also a constant or a graph input"));
    }
  }
  // Use lists: every use is a live node's input.
  for (ValueId v = 0; v < g.num_values(); ++v) {
    for (const Use& u : g.value(v).uses) {
      if (u.node < 0 || u.node >= g.num_nodes() || g.node(u.node).dead)
        return Fail(absl::StrCat(DescribeValue(g, v),
                                 " lists a use by a removed or missing node #",
                                 u.node));
      const Node& n = g.node(u.node);
      if (u.input_index < 0 ||
          u.input_index >= static_cast<int>(n.inputs.size()) ||
          n.inputs[u.input_index] != v)
        return Fail(absl::StrCat(DescribeValue(g, v), " lists a use as input ",
                                 u.input_index, " of ", n.Describe(),
                                 ", which does not read it"));
    }
  }

  // Cycles, then types in topological order.
  auto order = g.TopologicalOrder();
  if (!order.ok()) return Fail(std::string(order.status().message()));
  SymbolicValueMap values;
  for (NodeId id : *order) {
    const Node& n = g.node(id);
    if (backend(n)) {
      for (ValueId v : n.outputs) {
        const TensorType& t = g.value(v).type;
        if (!t.shape.ranked())
          return Fail(absl::StrCat(n.Describe(), ": backend op output ",
                                   DescribeValue(g, v), " is unranked (",
                                   t.ToString(), ")"));
      }
      continue;
    }
    InferenceContext ctx(g, n, &values);
    absl::Status st = InferNodeTypes(g, id, &values, &ctx);
    if (!st.ok()) return Fail(std::string(st.message()));
    for (int i = 0; i < static_cast<int>(n.outputs.size()); ++i) {
      const Value& val = g.value(n.outputs[i]);
      if (!Refines(val.type, ctx.outputs[i])) {
        return Fail(absl::StrCat(n.Describe(), ": output ", i, " ",
                                 DescribeValue(g, n.outputs[i]), " has type ",
                                 val.type.ToString(), " but inference gives ",
                                 ctx.outputs[i].ToString()));
      }
      if (ctx.output_values.size() > static_cast<size_t>(i) &&
          ctx.output_values[i])
        values[n.outputs[i]] = *ctx.output_values[i];
    }
  }
  return absl::OkStatus();
}

}  // namespace qeff::ir
