#include "ir/op_schema.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/schemas_internal.h"

namespace qeff::ir {

namespace {

struct SchemaTable {
  std::vector<OpSchema> schemas;
  std::map<std::pair<std::string, std::string>, const OpSchema*> by_name;
};

const SchemaTable& Table() {
  static const SchemaTable* table = [] {
    auto* t = new SchemaTable;
    schemas::RegisterElementwise(&t->schemas);
    schemas::RegisterShapeOps(&t->schemas);
    schemas::RegisterNnOps(&t->schemas);
    schemas::RegisterCustomOps(&t->schemas);
    schemas::RegisterConvOps(&t->schemas);
    for (const OpSchema& s : t->schemas) {
      bool inserted =
          t->by_name.emplace(std::make_pair(s.domain, s.op_type), &s).second;
      QEFF_CHECK(inserted);  // one schema per (domain, op_type)
    }
    return t;
  }();
  return *table;
}

bool IsIntegerLike(DType t) { return IsInteger(t); }

// Dims from a constant tensor, when it is small, integer and rank <= 1.
std::optional<std::vector<Dim>> DimsFromTensor(const Tensor& t) {
  if (t.is_quantized() || !t.has_storage() || !IsIntegerLike(t.dtype()) ||
      t.rank() > 1 || t.num_elements() > kMaxSymbolicValueElements)
    return std::nullopt;
  std::vector<Dim> out;
  out.reserve(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) out.emplace_back(t.GetInt(i));
  return out;
}

// Merges an inferred type with what the value already holds: a `?` dim or
// an unranked shape does not erase more specific stored information.
TensorType Merge(const TensorType& stored, const TensorType& inferred) {
  if (stored.dtype != inferred.dtype || !stored.shape.ranked()) return inferred;
  if (!inferred.shape.ranked()) return stored;
  if (stored.shape.rank() != inferred.shape.rank()) return inferred;
  TensorType out = inferred;
  for (int i = 0; i < inferred.shape.rank(); ++i) {
    if (inferred.shape[i].is_unknown())
      out.shape.mutable_dims()[i] = stored.shape[i];
  }
  return out;
}

absl::Status CheckAgainstSchema(const Graph& g, const Node& n,
                                const OpSchema& s) {
  int num_in = static_cast<int>(n.inputs.size());
  // Trailing omitted optional inputs count as absent.
  while (num_in > 0 && n.inputs[num_in - 1] == kNoValue) --num_in;
  if (num_in < s.min_inputs || num_in > s.max_inputs) {
    return absl::InvalidArgumentError(
        absl::StrCat(n.Describe(), ": has ", num_in, " inputs, expected ",
                     s.min_inputs == s.max_inputs
                         ? absl::StrCat(s.min_inputs)
                         : absl::StrCat(s.min_inputs, " to ",
                                        s.max_inputs == kVariadic
                                            ? std::string("any number")
                                            : absl::StrCat(s.max_inputs))));
  }
  for (int i = 0; i < s.min_inputs; ++i) {
    if (n.inputs[i] == kNoValue) {
      return absl::InvalidArgumentError(
          absl::StrCat(n.Describe(), ": required input ", i, " is missing"));
    }
  }
  for (int i = 0; i < num_in; ++i) {
    ValueId v = n.inputs[i];
    if (v != kNoValue && (v < 0 || v >= g.num_values())) {
      return absl::InvalidArgumentError(absl::StrCat(
          n.Describe(), ": input ", i, " refers to no value (%", v, ")"));
    }
  }
  int num_out = static_cast<int>(n.outputs.size());
  if (num_out < s.min_outputs || num_out > s.max_outputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        n.Describe(), ": has ", num_out, " outputs, expected ", s.min_outputs,
        s.min_outputs == s.max_outputs ? std::string()
                                       : absl::StrCat(" to ", s.max_outputs)));
  }
  for (const auto& [name, attr] : n.attrs) {
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& a : s.attrs)
      if (a.name == name) spec = &a;
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(n.Describe(), ": unknown attribute '", name, "'"));
    }
    if (spec->kind != attr.kind()) {
      return absl::InvalidArgumentError(
          absl::StrCat(n.Describe(), ": attribute '", name, "' must be ",
                       AttributeKindName(spec->kind), ", got ",
                       AttributeKindName(attr.kind())));
    }
  }
  for (const AttrSpec& a : s.attrs) {
    if (a.required && n.attrs.count(a.name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          n.Describe(), ": required attribute '", a.name, "' is missing"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const OpSchema* FindOpSchema(absl::string_view domain,
                             absl::string_view op_type) {
  // "ai.onnx" is the default domain's long name.
  if (domain == "ai.onnx") domain = "";
  const auto& m = Table().by_name;
  auto it = m.find(std::make_pair(std::string(domain), std::string(op_type)));
  return it == m.end() ? nullptr : it->second;
}

std::vector<const OpSchema*> AllOpSchemas() {
  std::vector<const OpSchema*> out;
  for (const OpSchema& s : Table().schemas) out.push_back(&s);
  return out;
}

const Tensor* InferenceContext::input_constant(int i) const {
  if (!has_input(i)) return nullptr;
  const Value& v = graph_.value(node_.inputs[i]);
  return v.is_constant() ? &*v.constant : nullptr;
}

const std::vector<Dim>* InferenceContext::input_dims_value(int i) const {
  if (!has_input(i)) return nullptr;
  auto cached = const_dims_.find(i);
  if (cached != const_dims_.end()) return &cached->second;
  if (const Tensor* t = input_constant(i)) {
    std::optional<std::vector<Dim>> d = DimsFromTensor(*t);
    if (!d) return nullptr;
    return &const_dims_.emplace(i, std::move(*d)).first->second;
  }
  if (values_ != nullptr) {
    auto it = values_->find(node_.inputs[i]);
    if (it != values_->end()) return &it->second;
  }
  return nullptr;
}

std::optional<std::vector<int64_t>> InferenceContext::input_static_ints(
    int i) const {
  const std::vector<Dim>* d = input_dims_value(i);
  if (d == nullptr) return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(d->size());
  for (const Dim& x : *d) {
    if (!x.is_static()) return std::nullopt;
    out.push_back(x.value());
  }
  return out;
}

void InferenceContext::set_output_dims_value(int i, std::vector<Dim> v) {
  if (static_cast<int>(output_values.size()) < num_outputs())
    output_values.resize(num_outputs());
  if (static_cast<int64_t>(v.size()) > kMaxSymbolicValueElements) return;
  output_values[i] = std::move(v);
}

const std::vector<Dim>* InferenceContext::output_dims_value(int i) const {
  if (i >= static_cast<int>(output_values.size()) || !output_values[i])
    return nullptr;
  return &*output_values[i];
}

absl::StatusOr<Dim> BroadcastDim(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static()) {
    if (a.value() == b.value() || b.value() == 1) return a;
    if (a.value() == 1) return b;
    return absl::InvalidArgumentError(
        absl::StrCat("cannot broadcast dims ", a.value(), " and ", b.value()));
  }
  if (a == b) return a;
  if (a.is_static() && a.value() == 1) return b;
  if (b.is_static() && b.value() == 1) return a;
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  return Dim::Unknown();
}

absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  if (!a.ranked() || !b.ranked()) return Shape::Unranked();
  int rank = std::max(a.rank(), b.rank());
  std::vector<Dim> out(rank);
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    if (ia < 0) {
      out[i] = b[ib];
    } else if (ib < 0) {
      out[i] = a[ia];
    } else {
      auto d = BroadcastDim(a[ia], b[ib]);
      if (!d.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("shapes ", a.ToString(), " and ", b.ToString(),
                         " do not broadcast (", d.status().message(), ")"));
      }
      out[i] = *d;
    }
  }
  return Shape(std::move(out));
}

absl::Status InferNodeTypes(const Graph& g, NodeId id,
                            const SymbolicValueMap* values,
                            InferenceContext* ctx) {
  const Node& n = g.node(id);
  const OpSchema* s = FindOpSchema(n.domain, n.op_type);
  if (s == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        n.Describe(), ": no schema for op '",
        n.domain.empty() ? n.op_type : absl::StrCat(n.domain, ".", n.op_type),
        "'"));
  }
  QEFF_RETURN_IF_ERROR(CheckAgainstSchema(g, n, *s));
  ctx->outputs.assign(n.outputs.size(), TensorType{});
  ctx->output_values.assign(n.outputs.size(), std::nullopt);
  absl::Status st = s->infer(*ctx);
  if (!st.ok()) {
    return absl::Status(st.code(),
                        absl::StrCat(n.Describe(), ": ", st.message()));
  }
  return absl::OkStatus();
}

absl::Status InferNode(Graph& g, NodeId id, SymbolicValueMap* values) {
  InferenceContext ctx(g, g.node(id), values);
  QEFF_RETURN_IF_ERROR(InferNodeTypes(g, id, values, &ctx));
  const std::vector<ValueId> outs = g.node(id).outputs;
  for (size_t i = 0; i < outs.size(); ++i) {
    Value& v = g.value(outs[i]);
    v.type = Merge(v.type, ctx.outputs[i]);
    if (values != nullptr) {
      if (ctx.output_values[i])
        (*values)[outs[i]] = std::move(*ctx.output_values[i]);
      else
        values->erase(outs[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status InferNode(Graph& g, NodeId n) { return InferNode(g, n, nullptr); }

absl::Status InferShapes(Graph& g, SymbolicValueMap* values) {
  QEFF_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.TopologicalOrder());
  for (NodeId n : order) QEFF_RETURN_IF_ERROR(InferNode(g, n, values));
  return absl::OkStatus();
}

absl::Status InferShapes(Graph& g) {
  SymbolicValueMap values;
  return InferShapes(g, &values);
}

namespace schemas {

absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank,
                                  absl::string_view what) {
  if (axis < -rank || axis >= rank) {
    return Error(what, " ", axis, " is out of range for rank ", rank);
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

absl::Status CheckRank(const InferenceContext& ctx, int input, int rank,
                       absl::string_view what) {
  const Shape& s = ctx.input_type(input).shape;
  if (s.ranked() && s.rank() != rank) {
    return Error(what, " must have rank ", rank, ", got ", s.ToString());
  }
  return absl::OkStatus();
}

Dim Product(const std::vector<Dim>& dims) {
  Dim p = 1;
  for (const Dim& d : dims) p = p * d;
  return p;
}

Dim DivideProducts(const std::vector<Dim>& num, const std::vector<Dim>& den) {
  int64_t sn = 1, sd = 1;
  std::vector<Dim> rest_num, rest_den;
  for (const Dim& d : num) {
    if (d.is_unknown()) return Dim::Unknown();
    if (d.is_static())
      sn *= d.value();
    else
      rest_num.push_back(d);
  }
  for (const Dim& d : den) {
    if (d.is_unknown()) return Dim::Unknown();
    if (d.is_static()) {
      sd *= d.value();
      continue;
    }
    auto it = std::find(rest_num.begin(), rest_num.end(), d);
    if (it != rest_num.end())
      rest_num.erase(it);
    else
      rest_den.push_back(d);
  }
  if (sd == 0) return Dim::Unknown();
  if (rest_den.empty() && sn % sd == 0) {
    return Product(rest_num) * Dim(sn / sd);
  }
  return Dim::FloorDiv(Product(rest_num) * Dim(sn),
                       Product(rest_den) * Dim(sd));
}

Shape UnknownDims(int rank) {
  return Shape(std::vector<Dim>(rank, Dim::Unknown()));
}

}  // namespace schemas

const std::vector<std::string>& RequiredOnnxOps() {
  static const auto* ops = new std::vector<std::string>{"MatMul",
                                                        "Gemm",
                                                        "Add",
                                                        "Sub",
                                                        "Mul",
                                                        "Div",
                                                        "Pow",
                                                        "Sqrt",
                                                        "Reciprocal",
                                                        "Neg",
                                                        "Exp",
                                                        "Log",
                                                        "Tanh",
                                                        "Erf",
                                                        "Sigmoid",
                                                        "Softmax",
                                                        "ReduceMean",
                                                        "ReduceMax",
                                                        "ReduceSum",
                                                        "Cast",
                                                        "Reshape",
                                                        "Transpose",
                                                        "Concat",
                                                        "Split",
                                                        "Slice",
                                                        "Gather",
                                                        "GatherND",
                                                        "ScatterND",
                                                        "Unsqueeze",
                                                        "Squeeze",
                                                        "Expand",
                                                        "Where",
                                                        "Equal",
                                                        "Less",
                                                        "Greater",
                                                        "And",
                                                        "Not",
                                                        "Range",
                                                        "Trilu",
                                                        "ArgMax",
                                                        "Shape",
                                                        "ConstantOfShape",
                                                        "LayerNormalization",
                                                        "Sin",
                                                        "Cos",
                                                        "Max",
                                                        "Min",
                                                        "Clip",
                                                        "TopK",
                                                        "CumSum",
                                                        "Conv"};
  return *ops;
}

}  // namespace qeff::ir
