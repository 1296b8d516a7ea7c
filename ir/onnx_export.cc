#include "ir/onnx_export.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "ir/onnx_convert.h"
#include "ir/onnx_functions.h"
#include "ir/quant.h"
#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

namespace qeff::ir {
namespace {

using onnx_internal::AttributeToProto;
using onnx_internal::TensorToProto;
using onnx_internal::TypeToProto;

constexpr int64_t kIrVersion = 8;
constexpr int64_t kMaxOnnxOpset = 17;
constexpr size_t kExternalAlignment = 64;
// ir/custom_ops.h's kCustomRMSNormDefaultEpsilon (that header belongs to
// //ir:evaluator; onnx_io_test checks the two agree).
constexpr float kCustomRMSNormDefaultEpsilon = 1e-6f;

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class Exporter {
 public:
  Exporter(const Graph& g, std::string path, const ExportOptions& options)
      : g_(g),
        path_(std::move(path)),
        data_path_(path_ + ".data"),
        options_(options),
        names_(g.num_values()) {}

  absl::Status Run() {
    absl::Status s = Build();
    if (s.ok()) s = Write();
    if (s.ok() && options_.validate) s = Validate();
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("ONNX export to '", path_,
                                                 "': ", s.message()));
    }
    return s;
  }

 private:
  absl::Status Build();
  absl::Status Write();
  absl::Status Validate();
  const std::string& Name(ValueId v) { return names_[v]; }
  // Gives `v` `preferred` or, when that is empty or taken, a fresh name.
  void Assign(ValueId v);
  std::string Fresh(const std::string& base);
  absl::Status CheckIoType(ValueId v, absl::string_view what) const;
  absl::Status AddInitializer(ValueId v, onnx::GraphProto* graph);

  const Graph& g_;
  std::string path_;
  std::string data_path_;
  ExportOptions options_;
  std::vector<std::string> names_;  // by value id; "" = not exported
  std::unordered_set<std::string> taken_;
  onnx::ModelProto model_;
  // Constants to write to the data file, with their offsets and bytes. They
  // are read from the graph when written, one at a time (a quantized one
  // dequantized then and dropped), so export holds no second copy of the
  // weights.
  struct External {
    ValueId v;
    size_t offset, bytes;
  };
  std::vector<External> external_;
  // The constant's bytes as exported (quantized: dequantized to f32).
  absl::StatusOr<Tensor> ExportedTensor(ValueId v) const;
  size_t external_size_ = 0;
};

std::string Exporter::Fresh(const std::string& base) {
  if (!base.empty() && !taken_.count(base)) {
    taken_.insert(base);
    return base;
  }
  for (int i = 1;; ++i) {
    std::string n = absl::StrCat(base.empty() ? "_v" : base, "__", i);
    if (!taken_.count(n)) {
      taken_.insert(n);
      return n;
    }
  }
}

void Exporter::Assign(ValueId v) {
  if (!names_[v].empty()) return;
  const Value& val = g_.value(v);
  names_[v] = Fresh(val.name.empty() ? absl::StrCat("_v", v) : val.name);
}

absl::StatusOr<Tensor> Exporter::ExportedTensor(ValueId v) const {
  const Tensor& t = *g_.value(v).constant;
  if (!t.is_quantized()) return t;
  // ONNX has no block-quantized types: export the f32 values.
  auto deq = Dequantize(t);
  if (!deq.ok()) {
    return absl::Status(deq.status().code(),
                        absl::StrCat("constant '", g_.value(v).name,
                                     "': ", deq.status().message()));
  }
  return deq;
}

absl::Status Exporter::AddInitializer(ValueId v, onnx::GraphProto* graph) {
  const Tensor& stored = *g_.value(v).constant;
  const DType dtype = stored.is_quantized() ? DType::kF32 : stored.dtype();
  const size_t bytes =
      stored.is_quantized()
          ? static_cast<size_t>(stored.num_elements()) * DTypeSize(DType::kF32)
          : stored.byte_size();
  onnx::TensorProto* tp = graph->add_initializer();
  tp->set_name(Name(v));
  if (!options_.all_inline && bytes > options_.external_data_threshold) {
    tp->set_data_type(DTypeToOnnx(dtype));
    for (int64_t d : stored.dims()) tp->add_dims(d);
    tp->set_data_location(onnx::TensorProto::EXTERNAL);
    size_t offset = (external_size_ + kExternalAlignment - 1) /
                    kExternalAlignment * kExternalAlignment;
    auto add = [&](const char* k, const std::string& val) {
      auto* e = tp->add_external_data();
      e->set_key(k);
      e->set_value(val);
    };
    add("location", BaseName(data_path_));
    add("offset", absl::StrCat(offset));
    add("length", absl::StrCat(bytes));
    external_size_ = offset + bytes;
    external_.push_back({v, offset, bytes});
    return absl::OkStatus();
  }
  QEFF_ASSIGN_OR_RETURN(Tensor t, ExportedTensor(v));
  absl::Status s = TensorToProto(t, tp);
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("constant '", g_.value(v).name,
                                               "': ", s.message()));
  }
  return absl::OkStatus();
}

// ONNX requires a shape (possibly with unknown dims) on graph inputs and
// outputs.
absl::Status Exporter::CheckIoType(ValueId v, absl::string_view what) const {
  if (g_.value(v).type.shape.ranked()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("graph ", what, " '", g_.value(v).name,
                   "' has no shape (unranked); run shape inference first"));
}

absl::Status Exporter::Build() {
  auto opset_it = g_.opsets.find("");
  int64_t opset =
      opset_it == g_.opsets.end() ? kMaxOnnxOpset : opset_it->second;
  if (opset > kMaxOnnxOpset) {
    return absl::InvalidArgumentError(
        absl::StrCat("graph uses ai.onnx opset ", opset,
                     ", newer than the supported ", kMaxOnnxOpset));
  }
  model_.set_ir_version(kIrVersion);
  model_.set_producer_name("qeff");
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  onnx::GraphProto* graph = model_.mutable_graph();
  graph->set_name(g_.name);
  QEFF_ASSIGN_OR_RETURN(std::vector<NodeId> order, g_.TopologicalOrder());

  // Names: graph inputs and outputs first, so they keep theirs.
  for (ValueId v : g_.inputs()) Assign(v);
  std::set<ValueId> seen_outputs;
  for (ValueId v : g_.outputs()) {
    if (seen_outputs.insert(v).second) Assign(v);
  }
  std::vector<ValueId> constants = g_.Constants();
  for (ValueId v : constants) Assign(v);
  for (NodeId n : order) {
    for (ValueId v : g_.node(n).outputs) {
      const Value& val = g_.value(v);
      // An unnamed, unused output is an omitted optional output.
      if (val.name.empty() && val.uses.empty() && !val.is_graph_output)
        continue;
      Assign(v);
    }
  }

  for (ValueId v : g_.inputs()) {
    QEFF_RETURN_IF_ERROR(CheckIoType(v, "input"));
    auto* vi = graph->add_input();
    vi->set_name(Name(v));
    TypeToProto(g_.value(v).type, vi->mutable_type());
  }
  for (ValueId v : constants) QEFF_RETURN_IF_ERROR(AddInitializer(v, graph));

  std::map<std::pair<std::string, std::string>, bool> functions;
  std::set<std::string> node_names;
  for (NodeId id : order) {
    const Node& n = g_.node(id);
    onnx::NodeProto* np = graph->add_node();
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) {
      if (!onnx_internal::IsCustomOp(n.domain, n.op_type)) {
        return absl::InvalidArgumentError(absl::StrCat(
            n.Describe(), ": op of domain '", n.domain, "' has no ONNX form"));
      }
      np->set_domain(n.domain);
      functions[{n.domain, n.op_type}] = true;
      // An ONNX 1.12 function has no attribute defaults: write the
      // specification's default (ir/custom_ops.h) explicitly.
      if (n.op_type == "CustomRMSNorm" && n.attr("epsilon") == nullptr) {
        QEFF_RETURN_IF_ERROR(AttributeToProto(
            "epsilon", Attribute::Float(kCustomRMSNormDefaultEpsilon),
            np->add_attribute()));
      }
      if (n.op_type == "MoE") {
        for (const char* a :
             {"scoring", "norm_topk_prob", "score_on_input", "activation"}) {
          if (n.attr(a) == nullptr) {
            QEFF_RETURN_IF_ERROR(
                AttributeToProto(a, Attribute::Int(0), np->add_attribute()));
          }
        }
      }
    }
    if (!n.name.empty()) {
      std::string name = n.name;
      for (int i = 1; node_names.count(name); ++i)
        name = absl::StrCat(n.name, "__", i);
      node_names.insert(name);
      np->set_name(name);
    }
    int last = static_cast<int>(n.inputs.size());
    while (last > 0 && n.inputs[last - 1] == kNoValue) --last;
    for (int i = 0; i < last; ++i)
      np->add_input(n.inputs[i] == kNoValue ? std::string()
                                            : Name(n.inputs[i]));
    for (ValueId v : n.outputs) np->add_output(Name(v));
    for (const auto& [name, attr] : n.attrs) {
      absl::Status s = AttributeToProto(name, attr, np->add_attribute());
      if (!s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat(n.Describe(), ": attribute '", name,
                                         "': ", s.message()));
      }
    }
    for (ValueId v : n.outputs) {
      const Value& val = g_.value(v);
      if (Name(v).empty() || val.is_graph_output || !val.type.shape.ranked())
        continue;
      auto* vi = graph->add_value_info();
      vi->set_name(Name(v));
      TypeToProto(val.type, vi->mutable_type());
    }
  }
  seen_outputs.clear();
  for (ValueId v : g_.outputs()) {
    QEFF_RETURN_IF_ERROR(CheckIoType(v, "output"));
    std::string name = Name(v);
    if (!seen_outputs.insert(v).second) {
      // The same value twice: ONNX output names must differ.
      name = Fresh(g_.value(v).name);
      auto* id = graph->add_node();
      id->set_op_type("Identity");
      id->add_input(Name(v));
      id->add_output(name);
    }
    auto* vi = graph->add_output();
    vi->set_name(name);
    TypeToProto(g_.value(v).type, vi->mutable_type());
  }
  for (const auto& [key, unused] : functions) {
    QEFF_ASSIGN_OR_RETURN(
        onnx::FunctionProto f,
        onnx_internal::CustomOpFunction(key.first, key.second));
    *model_.add_functions() = std::move(f);
    bool have = false;
    for (const auto& o : model_.opset_import()) have |= o.domain() == key.first;
    if (!have) {
      auto* o = model_.add_opset_import();
      o->set_domain(key.first);
      o->set_version(1);
    }
  }
  if (model_.ByteSizeLong() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model's protobuf would be ", model_.ByteSizeLong(),
        " bytes, over the 2 GB limit; store weights as external data",
        options_.all_inline ? " (all_inline is set)" : ""));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(std::ofstream& f, const uint8_t* data, size_t n) {
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  return f ? absl::OkStatus() : absl::DataLossError("write failed");
}

absl::Status Exporter::Write() {
  const std::string data_tmp = base::UniqueTempName(data_path_);
  const std::string model_tmp = base::UniqueTempName(path_);
  auto fail = [&](const std::string& file, absl::string_view what) {
    std::remove(data_tmp.c_str());
    std::remove(model_tmp.c_str());
    return absl::DataLossError(absl::StrCat("cannot ", what, " '", file, "'"));
  };
  if (!external_.empty()) {
    std::ofstream f(data_tmp, std::ios::binary | std::ios::trunc);
    if (!f) return fail(data_tmp, "create");
    size_t pos = 0;
    static const uint8_t kZeros[kExternalAlignment] = {};
    for (const External& e : external_) {
      absl::StatusOr<Tensor> t = ExportedTensor(e.v);
      if (!t.ok()) {
        std::remove(data_tmp.c_str());
        return t.status();
      }
      if (t->byte_size() != e.bytes) return fail(data_tmp, "size the data of");
      if (!WriteAll(f, kZeros, e.offset - pos).ok() ||
          !WriteAll(f, t->raw(), e.bytes).ok())
        return fail(data_tmp, "write");
      pos = e.offset + e.bytes;
      // A mapped weight's pages were read once, to be written: drop them, so
      // that export never holds the checkpoint resident.
      g_.value(e.v).constant->buffer()->ReleasePages();
    }
    f.close();
    if (!f) return fail(data_tmp, "write");
  }
  {
    std::ofstream f(model_tmp, std::ios::binary | std::ios::trunc);
    if (!f) return fail(model_tmp, "create");
    if (!model_.SerializeToOstream(&f)) return fail(model_tmp, "write");
    f.close();
    if (!f) return fail(model_tmp, "write");
  }
  if (!external_.empty() &&
      std::rename(data_tmp.c_str(), data_path_.c_str()) != 0)
    return fail(data_path_, "rename to");
  if (std::rename(model_tmp.c_str(), path_.c_str()) != 0)
    return fail(path_, "rename to");
  return absl::OkStatus();
}

absl::Status Exporter::Validate() {
  try {
    onnx::checker::check_model(path_);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("onnx checker: ", e.what()));
  }
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/true, /*error_mode=*/1,
                                     /*data_prop=*/false);
    onnx::shape_inference::InferShapes(
        model_, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("onnx shape inference: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ExportOnnx(const Graph& g, const std::string& path,
                        const ExportOptions& options) {
  try {
    return Exporter(g, path, options).Run();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("ONNX export to '", path, "': ", e.what()));
  }
}

}  // namespace qeff::ir
