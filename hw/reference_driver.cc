#include "hw/reference_driver.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "hw/device_registry.h"
#include "hw/graph_io.h"
#include "ir/evaluator.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "ir/quant.h"

namespace qeff::hw {
namespace {

class ReferenceProgram : public Program {
 public:
  ReferenceProgram(ir::Graph g, std::vector<Specialization> specs, GraphIO io,
                   bool mxint8_kv)
      : graph(std::move(g)),
        specs(std::move(specs)),
        io(std::move(io)),
        mxint8_kv(mxint8_kv) {}
  const std::vector<Specialization>& specializations() const override {
    return specs;
  }
  std::string device_kind() const override { return "reference"; }

  ir::Graph graph;
  std::vector<Specialization> specs;
  GraphIO io;
  // The state is rounded to MXINT8 after every call (see reference_driver.h).
  bool mxint8_kv = false;
};

// Rounds every row (last dim) of an f32 tensor to MXINT8 blocks of 32, the
// last block of a row zero-padded: the values the cpu driver's MXINT8 cache
// holds (hw/cpu/kv_mxint8.h).
absl::Status RoundToMxInt8Rows(ir::Tensor& t) {
  const int64_t d = t.dims().back(), rows = t.num_elements() / d;
  float* x = t.mutable_data<float>();
  float blk[32];
  uint8_t q[33];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b0 = 0; b0 < d; b0 += 32) {
      const int64_t n = std::min<int64_t>(32, d - b0);
      std::fill(blk, blk + 32, 0.0f);
      std::copy(x + r * d + b0, x + r * d + b0 + n, blk);
      QEFF_RETURN_IF_ERROR(ir::QuantizeBlock(ir::QuantFormat::kMXINT8, blk, q));
      QEFF_RETURN_IF_ERROR(
          ir::DequantizeBlock(ir::QuantFormat::kMXINT8, q, blk));
      std::copy(blk, blk + n, x + r * d + b0);
    }
  }
  return absl::OkStatus();
}

class ReferenceSession : public Session {
 public:
  explicit ReferenceSession(std::shared_ptr<const ReferenceProgram> p)
      : p_(std::move(p)) {
    ResetState().IgnoreError();
  }

  absl::Status ResetState() override {
    state_.clear();
    for (const BoundIO& s : p_->io.state)
      state_[s.name] = ir::Tensor::Zeros(s.dtype, s.dims);
    return absl::OkStatus();
  }

  absl::Status ResetSlot(int64_t slot) override {
    // State tensors may share storage with earlier outputs: copy on reset.
    std::vector<ir::Tensor*> rows;
    for (auto& [name, t] : state_) {
      ir::Tensor fresh = ir::Tensor::Zeros(t.dtype(), t.dims());
      std::memcpy(fresh.mutable_raw(), t.raw(), t.byte_size());
      t = std::move(fresh);
      rows.push_back(&t);
    }
    return ZeroStateRows(rows, slot);
  }

  absl::StatusOr<TensorMap> Run(absl::string_view specialization,
                                const TensorMap& inputs) override {
    QEFF_ASSIGN_OR_RETURN(int spec,
                          p_->io.FindSpecialization(p_->specs, specialization));
    QEFF_RETURN_IF_ERROR(p_->io.CheckInputs(spec, inputs));
    absl::flat_hash_map<std::string, ir::Tensor> feed;
    for (const auto& [name, t] : inputs) feed[name] = t;
    for (const auto& [name, t] : state_) feed[name] = t;
    QEFF_ASSIGN_OR_RETURN(std::vector<ir::Tensor> outs,
                          ir::Evaluator::Run(p_->graph, feed));
    TensorMap result;
    const auto& graph_outs = p_->graph.outputs();
    for (size_t i = 0; i < graph_outs.size(); ++i) {
      const std::string& name = p_->graph.value(graph_outs[i]).name;
      constexpr absl::string_view kSuffix = "_RetainedState";
      if (absl::EndsWith(name, kSuffix)) {
        std::string in = name.substr(0, name.size() - kSuffix.size());
        ir::Tensor& slot = state_[in];
        if (outs[i].dims() != slot.dims() || outs[i].dtype() != slot.dtype()) {
          return absl::InternalError(
              absl::StrCat("output '", name, "' is ", outs[i].TypeString(),
                           " but the state is ", slot.TypeString()));
        }
        slot = outs[i];
        if (p_->mxint8_kv) QEFF_RETURN_IF_ERROR(RoundToMxInt8Rows(slot));
      } else {
        result[name] = outs[i];
      }
    }
    return result;
  }

 private:
  std::shared_ptr<const ReferenceProgram> p_;
  TensorMap state_;
};

constexpr char kReferenceTarget[] = "reference/1";
constexpr char kProgramFile[] = "program.onnx";

class ReferenceDevice : public Device {
 public:
  std::string name() const override { return "reference:0"; }
  std::string kind() const override { return "reference"; }

  absl::StatusOr<std::shared_ptr<const Program>> Compile(
      const ir::Graph& graph, const std::vector<Specialization>& specs,
      const CompileOptions& options) override {
    if (options.num_devices != 1) {
      return absl::UnimplementedError(
          absl::StrCat("reference driver: num_devices=", options.num_devices,
                       " (tensor slicing) is not supported; use 1"));
    }
    if (options.weight_dtype != ir::DType::kF32)
      return absl::UnimplementedError(absl::StrCat(
          "reference driver: weight_dtype ",
          ir::DTypeName(options.weight_dtype),
          " is not supported (the reference runs the graph's weights as "
          "given)"));
    if (options.weight_format != ir::QuantFormat::kNone)
      return absl::UnimplementedError(absl::StrCat(
          "reference driver: weight_format ",
          ir::QuantFormatName(options.weight_format),
          " is not supported (the reference runs the graph's weights as "
          "given)"));
    if (options.mxfp6_matmul) {
      return absl::UnimplementedError(
          "reference driver: mxfp6_matmul is not supported (the reference "
          "runs the graph's weights exactly as given)");
    }
    QEFF_ASSIGN_OR_RETURN(GraphIO io, BindGraphIO(graph, specs));
    if (options.mxint8_kv_cache) {
      for (const BoundIO& s : io.state) {
        if (s.dtype != ir::DType::kF32 || s.dims.empty())
          return absl::UnimplementedError(absl::StrCat(
              "reference driver: mxint8_kv_cache needs f32 state; '", s.name,
              "' is ", ir::DTypeName(s.dtype)));
      }
    }
    return std::shared_ptr<const Program>(std::make_shared<ReferenceProgram>(
        graph, specs, std::move(io), options.mxint8_kv_cache));
  }

  std::string target() const override { return kReferenceTarget; }

  // mxint8_kv_cache changes what the reference computes; it supports no
  // other option that changes a program.
  std::string ProgramKeyOptionsJson(
      const CompileOptions& options) const override {
    return absl::StrCat("{\"mxint8_kv_cache\":",
                        options.mxint8_kv_cache ? "true" : "false", "}");
  }

  // The folder: specializations.json, qconfig.json and qpc/program.onnx
  // (+ .onnx.data): the graph itself, as ONNX, which LoadProgram imports
  // and binds again.
  absl::Status SaveProgram(const Program& program, const std::string& dir,
                           const std::string& provenance_json) override {
    const auto* p = dynamic_cast<const ReferenceProgram*>(&program);
    if (!p) {
      return absl::InvalidArgumentError(
          absl::StrCat("reference driver cannot save a program compiled for '",
                       program.device_kind(), "'"));
    }
    {
      const std::string& tmp = dir;
      QEFF_RETURN_IF_ERROR(base::MakeDirs(tmp + "/qpc"));
      QEFF_RETURN_IF_ERROR(
          ir::ExportOnnx(p->graph, tmp + "/qpc/" + kProgramFile));
      const std::string specs = SpecializationsToJson(p->specs);
      QEFF_RETURN_IF_ERROR(
          base::WriteFileAtomically(tmp + "/specializations.json", specs));
      base::JsonValue q = base::JsonValue::Object();
      q.Set("device", base::JsonValue::String("reference"));
      q.Set("target", base::JsonValue::String(kReferenceTarget));
      base::JsonValue co = base::JsonValue::Object();
      co.Set("mxint8_kv_cache", base::JsonValue::Bool(p->mxint8_kv));
      q.Set("compile_options", std::move(co));
      if (!provenance_json.empty()) {
        QEFF_ASSIGN_OR_RETURN(base::JsonValue prov,
                              base::ParseJson(provenance_json));
        q.Set("provenance", std::move(prov));
      }
      base::JsonWriteOptions wo;
      wo.indent = 2;
      return base::WriteFileAtomically(tmp + "/qconfig.json",
                                       base::WriteJson(q, wo) + "\n");
    }
  }

  absl::StatusOr<std::shared_ptr<const Program>> LoadProgram(
      const std::string& dir) override {
    const std::string qpath = dir + "/qconfig.json";
    QEFF_ASSIGN_OR_RETURN(std::string qtext, base::ReadFile(qpath));
    QEFF_ASSIGN_OR_RETURN(base::JsonValue q, base::ParseJson(qtext));
    const base::JsonValue* t = q.is_object() ? q.Find("target") : nullptr;
    if (!t || !t->is_string() || t->string_value() != kReferenceTarget) {
      return absl::FailedPreconditionError(absl::StrCat(
          qpath, ": target '", t && t->is_string() ? t->string_value() : "",
          "' is not this build's '", kReferenceTarget, "'; recompile"));
    }
    CompileOptions options;
    if (const base::JsonValue* co = q.Find("compile_options")) {
      const base::JsonValue* mx =
          co->is_object() ? co->Find("mxint8_kv_cache") : nullptr;
      options.mxint8_kv_cache = mx && mx->is_bool() && mx->bool_value();
    }
    QEFF_ASSIGN_OR_RETURN(std::string stext,
                          base::ReadFile(dir + "/specializations.json"));
    QEFF_ASSIGN_OR_RETURN(
        std::vector<Specialization> specs,
        ParseSpecializationsJson(stext, dir + "/specializations.json"));
    QEFF_ASSIGN_OR_RETURN(ir::Graph g,
                          ir::ImportOnnx(dir + "/qpc/" + kProgramFile));
    auto program = Compile(g, specs, options);
    if (!program.ok())
      return absl::Status(program.status().code(),
                          absl::StrCat(dir, ": ", program.status().message()));
    return program;
  }

  absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program) override {
    auto p = std::dynamic_pointer_cast<const ReferenceProgram>(program);
    if (!p) {
      return absl::InvalidArgumentError(
          absl::StrCat("reference driver cannot load a program compiled for '",
                       program ? program->device_kind() : "nothing", "'"));
    }
    return std::unique_ptr<Session>(new ReferenceSession(std::move(p)));
  }
};

}  // namespace

std::unique_ptr<Device> MakeReferenceDevice() {
  return std::make_unique<ReferenceDevice>();
}

namespace {
absl::StatusOr<std::unique_ptr<Device>> OpenReferenceDevice(
    absl::string_view spec) {
  if (spec != "reference" && spec != "reference:0")
    return absl::InvalidArgumentError(
        absl::StrCat("device '", spec,
                     "': the reference driver has one device, "
                     "'reference'"));
  return MakeReferenceDevice();
}
const bool kRegistered = RegisterDriver("reference", 10, &OpenReferenceDevice);
}  // namespace

}  // namespace qeff::hw
