#include "ir/onnx_import.h"

#include <climits>
#include <exception>
#include <map>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "ir/buffer.h"
#include "ir/onnx_convert.h"
#include "ir/onnx_functions.h"
#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

// Defined and exported by libonnx 1.12 (onnx/checker.cc) but not declared in
// its header: checks a parsed model with a context that knows the model's
// directory, so external data is checked without re-reading the file.
namespace onnx::checker {
void check_model(const ModelProto& model, CheckerContext& ctx);
}  // namespace onnx::checker

namespace qeff::ir {
namespace {

using onnx_internal::AttributeFromProto;
using onnx_internal::ExternalData;
using onnx_internal::TensorFromProto;
using onnx_internal::TypeFromProto;

constexpr int64_t kMaxOnnxOpset = 17;
constexpr int64_t kMaxIrVersion = 8;
constexpr int kMaxFunctionDepth = 16;

std::string NormalizeDomain(const std::string& d) {
  return d == "ai.onnx" ? std::string() : d;
}

std::string NodeLabel(const onnx::NodeProto& n) {
  std::string op = n.domain().empty()
                       ? n.op_type()
                       : absl::StrCat(n.domain(), ".", n.op_type());
  return n.name().empty() ? absl::StrCat("node ", op)
                          : absl::StrCat("node '", n.name(), "' (", op, ")");
}

// Name resolution inside the main graph or one inlined function body.
struct Scope {
  std::unordered_map<std::string, ValueId> names;
  std::map<std::string, int64_t> opsets;  // normalized domain -> version
  // Caller's attributes, for `ref_attr_name` inside a function body.
  const onnx::NodeProto* caller = nullptr;
  std::string prefix;  // prepended to names made inside a function body
  int depth = 0;
};

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string model_dir,
           const ImportOptions& options, std::string source)
      : model_(model),
        model_dir_(model_dir),
        external_(std::move(model_dir)),
        options_(options),
        source_(std::move(source)) {}

  absl::StatusOr<Graph> Run() {
    absl::Status s = Build();
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat(source_, ": ", s.message()));
    }
    return std::move(graph_);
  }

 private:
  absl::Status Build();
  absl::Status CheckOpsets(Scope* scope);
  absl::Status ImportNode(const onnx::NodeProto& n, Scope& scope);
  absl::Status CheckAgainstSchema(const onnx::NodeProto& n, const Scope& scope);
  absl::Status InlineFunction(const onnx::NodeProto& n,
                              const onnx::FunctionProto& f, Scope& scope);
  absl::Status SetType(const onnx::ValueInfoProto& vi, const Scope& scope,
                       bool required);

  const onnx::ModelProto& model_;
  std::string model_dir_;
  ExternalData external_;
  ImportOptions options_;
  std::string source_;
  Graph graph_;
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*>
      functions_;
};

absl::Status Importer::CheckOpsets(Scope* scope) {
  if (model_.ir_version() > kMaxIrVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("IR version ", model_.ir_version(),
                     " is newer than the supported ", kMaxIrVersion));
  }
  for (const auto& op : model_.opset_import()) {
    std::string d = NormalizeDomain(op.domain());
    if (d.empty() && op.version() > kMaxOnnxOpset) {
      return absl::InvalidArgumentError(
          absl::StrCat("ai.onnx opset ", op.version(),
                       " is newer than the supported ", kMaxOnnxOpset));
    }
    scope->opsets[d] = op.version();
  }
  if (!scope->opsets.count("")) {
    return absl::InvalidArgumentError("the model imports no ai.onnx opset");
  }
  graph_.opsets = scope->opsets;
  return absl::OkStatus();
}

absl::Status Importer::CheckAgainstSchema(const onnx::NodeProto& n,
                                          const Scope& scope) {
  const std::string domain = NormalizeDomain(n.domain());
  auto it = scope.opsets.find(domain);
  if (it == scope.opsets.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        NodeLabel(n), ": domain '", n.domain(), "' is not in opset_import"));
  }
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(
      n.op_type(), static_cast<int>(it->second), domain);
  if (schema == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        NodeLabel(n), ": unknown op '", n.op_type(), "' in domain '",
        domain.empty() ? "ai.onnx" : domain, "' at opset ", it->second));
  }
  if (schema->Deprecated()) {
    return absl::InvalidArgumentError(
        absl::StrCat(NodeLabel(n), ": op '", n.op_type(),
                     "' is deprecated at opset ", it->second));
  }
  for (const auto& a : n.attribute()) {
    auto sa = schema->attributes().find(a.name());
    // Unknown attribute names are reported by Verify() below (it knows
    // which ops allow unchecked attributes).
    if (sa == schema->attributes().end()) continue;
    if (a.ref_attr_name().empty() && a.type() != sa->second.type) {
      return absl::InvalidArgumentError(absl::StrCat(
          NodeLabel(n), ": attribute '", a.name(), "' has type ",
          onnx::AttributeProto_AttributeType_Name(a.type()), ", ", n.op_type(),
          " expects ",
          onnx::AttributeProto_AttributeType_Name(sa->second.type)));
    }
  }
  try {
    schema->Verify(n);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(NodeLabel(n), ": ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status Importer::ImportNode(const onnx::NodeProto& n, Scope& scope) {
  const std::string domain = NormalizeDomain(n.domain());
  if (domain.empty() &&
      (n.op_type() == "If" || n.op_type() == "Loop" || n.op_type() == "Scan")) {
    return absl::UnimplementedError(absl::StrCat(
        NodeLabel(n), ": control flow (", n.op_type(), ") is not supported"));
  }
  auto fn = functions_.find({domain, n.op_type()});
  bool custom = onnx_internal::IsCustomOp(domain, n.op_type());
  if (fn != functions_.end() && (!custom || options_.inline_functions)) {
    return InlineFunction(n, *fn->second, scope);
  }
  if (custom) {
    if (!scope.opsets.count(domain)) {
      return absl::InvalidArgumentError(absl::StrCat(
          NodeLabel(n), ": domain '", domain, "' is not in opset_import"));
    }
  } else if (domain.empty()) {
    QEFF_RETURN_IF_ERROR(CheckAgainstSchema(n, scope));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(NodeLabel(n), ": unknown op '", n.op_type(),
                     "' in domain '", domain, "'"));
  }

  std::map<std::string, Attribute> attrs;
  for (const auto& a : n.attribute()) {
    const onnx::AttributeProto* src = &a;
    if (!a.ref_attr_name().empty()) {
      src = nullptr;
      if (scope.caller != nullptr) {
        for (const auto& ca : scope.caller->attribute())
          if (ca.name() == a.ref_attr_name()) src = &ca;
      }
      if (src == nullptr) continue;  // not given by the caller: op default
    }
    auto attr = AttributeFromProto(
        *src, absl::StrCat(NodeLabel(n), ": attribute '", a.name(), "'"));
    if (!attr.ok()) return attr.status();
    if (a.name() == "sparse_value") {
      return absl::InvalidArgumentError(absl::StrCat(
          NodeLabel(n), ": sparse tensor attributes are not supported"));
    }
    attrs[a.name()] = *std::move(attr);
  }
  std::vector<ValueId> inputs;
  for (const std::string& in : n.input()) {
    if (in.empty()) {
      inputs.push_back(kNoValue);
      continue;
    }
    auto it = scope.names.find(in);
    if (it == scope.names.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          NodeLabel(n), ": input '", in,
          "' is not defined before it (nodes must be topologically sorted)"));
    }
    inputs.push_back(it->second);
  }
  std::string name = n.name().empty() || scope.prefix.empty()
                         ? n.name()
                         : absl::StrCat(scope.prefix, n.name());
  NodeId id = graph_.AddNode(n.op_type(), std::move(inputs), n.output_size(),
                             std::move(attrs), name, domain);
  for (int i = 0; i < n.output_size(); ++i) {
    ValueId v = graph_.node(id).outputs[i];
    const std::string& out = n.output(i);
    if (out.empty()) {
      graph_.value(v).name.clear();
      continue;
    }
    if (scope.names.count(out)) {
      return absl::InvalidArgumentError(absl::StrCat(
          NodeLabel(n), ": output '", out, "' is already defined"));
    }
    scope.names[out] = v;
    graph_.value(v).name = absl::StrCat(scope.prefix, out);
  }
  return absl::OkStatus();
}

absl::Status Importer::InlineFunction(const onnx::NodeProto& n,
                                      const onnx::FunctionProto& f,
                                      Scope& scope) {
  if (scope.depth >= kMaxFunctionDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat(NodeLabel(n), ": function calls nested deeper than ",
                     kMaxFunctionDepth));
  }
  if (n.input_size() > f.input_size() || n.output_size() > f.output_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(NodeLabel(n), ": ", n.input_size(), " inputs and ",
                     n.output_size(), " outputs, function ", f.name(), " has ",
                     f.input_size(), " and ", f.output_size()));
  }
  Scope body;
  body.depth = scope.depth + 1;
  body.caller = &n;
  body.prefix = absl::StrCat(
      scope.prefix,
      n.name().empty() ? n.output_size() ? n.output(0) : f.name() : n.name(),
      "/");
  body.opsets = scope.opsets;
  for (const auto& op : f.opset_import())
    body.opsets[NormalizeDomain(op.domain())] = op.version();
  for (int i = 0; i < n.input_size(); ++i) {
    if (n.input(i).empty()) continue;  // omitted: undefined in the body
    auto it = scope.names.find(n.input(i));
    if (it == scope.names.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          NodeLabel(n), ": input '", n.input(i), "' is not defined before it"));
    }
    body.names[f.input(i)] = it->second;
  }
  for (const auto& bn : f.node()) QEFF_RETURN_IF_ERROR(ImportNode(bn, body));
  for (int i = 0; i < n.output_size(); ++i) {
    if (n.output(i).empty()) continue;
    auto it = body.names.find(f.output(i));
    if (it == body.names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(NodeLabel(n), ": function ", f.name(),
                       " does not define its output '", f.output(i), "'"));
    }
    if (scope.names.count(n.output(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          NodeLabel(n), ": output '", n.output(i), "' is already defined"));
    }
    ValueId v = it->second;
    // A value made in the body takes the caller's output name.
    if (graph_.value(v).producer != kNoNode &&
        graph_.value(v).name.rfind(body.prefix, 0) == 0) {
      graph_.value(v).name = absl::StrCat(scope.prefix, n.output(i));
    }
    scope.names[n.output(i)] = v;
  }
  return absl::OkStatus();
}

absl::Status Importer::SetType(const onnx::ValueInfoProto& vi,
                               const Scope& scope, bool required) {
  auto it = scope.names.find(vi.name());
  if (it == scope.names.end()) {
    if (!required) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("graph output '", vi.name(), "' is not defined"));
  }
  Value& v = graph_.value(it->second);
  if (!vi.has_type() || v.is_constant()) return absl::OkStatus();
  auto t = TypeFromProto(vi.type(), absl::StrCat("value '", vi.name(), "'"));
  if (!t.ok()) return t.status();
  if (v.producer != kNoNode) v.type = *std::move(t);
  return absl::OkStatus();
}

absl::Status Importer::Build() {
  Scope scope;
  QEFF_RETURN_IF_ERROR(CheckOpsets(&scope));
  const onnx::GraphProto& g = model_.graph();
  if (!g.name().empty()) graph_.name = g.name();
  for (const auto& f : model_.functions())
    functions_[{NormalizeDomain(f.domain()), f.name()}] = &f;
  if (g.sparse_initializer_size() > 0) {
    return absl::UnimplementedError(absl::StrCat(
        "sparse initializer '", g.sparse_initializer(0).values().name(),
        "' is not supported"));
  }
  for (const auto& init : g.initializer()) {
    if (scope.names.count(init.name())) {
      return absl::InvalidArgumentError(
          absl::StrCat("initializer '", init.name(), "' is defined twice"));
    }
    QEFF_ASSIGN_OR_RETURN(
        Tensor t,
        TensorFromProto(init, &external_,
                        absl::StrCat("initializer '", init.name(), "'")));
    scope.names[init.name()] = graph_.AddConstant(init.name(), std::move(t));
  }
  for (const auto& in : g.input()) {
    // An initializer listed as an input (IR < 4 style) stays a constant.
    if (scope.names.count(in.name())) continue;
    if (!in.has_type()) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph input '", in.name(), "' has no type"));
    }
    QEFF_ASSIGN_OR_RETURN(
        TensorType t, TypeFromProto(in.type(), absl::StrCat("graph input '",
                                                            in.name(), "'")));
    scope.names[in.name()] = graph_.AddInput(in.name(), std::move(t));
  }
  for (const auto& n : g.node()) QEFF_RETURN_IF_ERROR(ImportNode(n, scope));
  for (const auto& vi : g.value_info())
    QEFF_RETURN_IF_ERROR(SetType(vi, scope, /*required=*/false));
  for (const auto& out : g.output()) {
    QEFF_RETURN_IF_ERROR(SetType(out, scope, /*required=*/true));
    graph_.AddOutput(scope.names.at(out.name()));
  }
  if (options_.run_checker) {
    try {
      onnx::checker::CheckerContext ctx;
      ctx.set_model_dir(model_dir_.empty() ? "." : model_dir_);
      onnx::checker::check_model(model_, ctx);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("onnx checker: ", e.what()));
    }
  }
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status ParseModel(const uint8_t* data, size_t size,
                        const std::string& source, onnx::ModelProto* model) {
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": ", size, " bytes exceeds protobuf's 2 GB limit"));
  }
  google::protobuf::io::ArrayInputStream raw(data, static_cast<int>(size));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT_MAX);
  if (!model->ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": not a valid ONNX model (protobuf parse failed; truncated "
        "or corrupt file?)"));
  }
  if (!model->has_graph()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a valid ONNX model (no graph)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Graph> ImportOnnxModel(const onnx::ModelProto& model,
                                      const std::string& model_dir,
                                      const ImportOptions& options,
                                      const std::string& source) {
  try {
    return Importer(model, model_dir, options, source).Run();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(source, ": ", e.what()));
  }
}

absl::StatusOr<Graph> ImportOnnxFromBytes(absl::string_view bytes,
                                          const std::string& model_dir,
                                          const ImportOptions& options,
                                          const std::string& source) {
  onnx::ModelProto model;
  QEFF_RETURN_IF_ERROR(
      ParseModel(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                 source, &model));
  return ImportOnnxModel(model, model_dir, options, source);
}

absl::StatusOr<Graph> ImportOnnx(const std::string& path,
                                 const ImportOptions& options) {
  auto file = MappedFile::Open(path);
  if (!file.ok()) {
    return absl::Status(
        file.status().code(),
        absl::StrCat("ONNX model '", path, "': ", file.status().message()));
  }
  onnx::ModelProto model;
  QEFF_RETURN_IF_ERROR(
      ParseModel((*file)->data(), (*file)->size(), path, &model));
  file->reset();  // the proto holds its own copy now
  return ImportOnnxModel(model, DirName(path), options, path);
}

absl::StatusOr<Tensor> ImportOnnxTensor(const std::string& path) {
  auto file = MappedFile::Open(path);
  if (!file.ok()) {
    return absl::Status(
        file.status().code(),
        absl::StrCat("tensor file '", path, "': ", file.status().message()));
  }
  onnx::TensorProto t;
  if ((*file)->size() > static_cast<size_t>(INT_MAX) ||
      !t.ParseFromArray((*file)->data(), static_cast<int>((*file)->size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor file '", path, "': not a valid TensorProto"));
  }
  return TensorFromProto(t, nullptr, absl::StrCat("tensor file '", path, "'"));
}

}  // namespace qeff::ir
