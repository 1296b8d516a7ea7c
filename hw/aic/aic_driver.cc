#include "hw/aic/aic_driver.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "hw/aic/aic_compile.h"
#include "hw/aic/aic_runtime.h"
#include "hw/device_registry.h"
#include "hw/graph_io.h"
#include "ir/onnx_export.h"

namespace qeff::hw {
namespace {

constexpr char kQpcFile[] = "programqpc.bin";

class AicProgram : public Program {
 public:
  // A compiled (not loaded) program owns its scratch folder.
  ~AicProgram() override {
    if (!work_dir.empty()) (void)base::RemoveAll(work_dir);
  }
  const std::vector<Specialization>& specializations() const override {
    return specs;
  }
  std::string device_kind() const override { return "aic"; }

  std::vector<Specialization> specs;
  std::string qpc_dir;   // holds programqpc.bin
  std::string command;   // the compiler command line
  std::string work_dir;  // Compile's scratch folder (removed with it)
  // Per specialization, the non-state outputs' dims (the runtime reports
  // only byte sizes).
  std::map<std::string, std::map<std::string, std::vector<int64_t>>>
      output_dims;
};

base::JsonValue OutputDimsToJson(const AicProgram& p) {
  base::JsonValue j = base::JsonValue::Object();
  for (const auto& [spec, outs] : p.output_dims) {
    base::JsonValue o = base::JsonValue::Object();
    for (const auto& [name, dims] : outs) {
      base::JsonValue d = base::JsonValue::Array();
      for (int64_t x : dims) d.Append(base::JsonValue::Int(x));
      o.Set(name, std::move(d));
    }
    j.Set(spec, std::move(o));
  }
  return j;
}

absl::Status OutputDimsFromJson(const base::JsonValue& j,
                                const std::string& where, AicProgram* p) {
  if (!j.is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"output_dims\" is not an object"));
  for (const auto& [spec, outs] : j.object()) {
    if (!outs.is_object())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": output_dims.", spec, " is not an object"));
    for (const auto& [name, dims] : outs.object()) {
      if (!dims.is_array())
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": output_dims.", spec, ".", name, " is not an array"));
      std::vector<int64_t>& d = p->output_dims[spec][name];
      for (const base::JsonValue& x : dims.array()) {
        auto v = x.is_number()
                     ? x.AsInt64()
                     : absl::StatusOr<int64_t>(
                           absl::InvalidArgumentError("not a number"));
        if (!v.ok() || *v < 0)
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": output_dims.", spec, ".", name, " holds a bad dim"));
        d.push_back(*v);
      }
    }
  }
  return absl::OkStatus();
}

// Runs a loaded program: tensors to the runtime's bytes and back. The card
// keeps the retained state (aic_runtime.h); a new sequence needs no reset
// because transform_lm's cache mask hides every slot past the position
// being written (QEfficient resets no KV either).
class AicSession : public Session {
 public:
  AicSession(std::shared_ptr<const AicProgram> p,
             std::unique_ptr<aic::LoadedProgram> run)
      : p_(std::move(p)), run_(std::move(run)) {}

  absl::StatusOr<TensorMap> Run(absl::string_view specialization,
                                const TensorMap& inputs) override {
    auto dims = p_->output_dims.find(std::string(specialization));
    if (dims == p_->output_dims.end())
      return absl::NotFoundError(absl::StrCat(
          "aic: program has no specialization '", specialization, "'"));
    std::map<std::string, std::vector<uint8_t>> bytes;
    for (const auto& [name, t] : inputs) {
      const aic::Binding* b = Find(name);
      if (!b)
        return absl::InvalidArgumentError(
            absl::StrCat("aic: the program has no input '", name, "'"));
      QEFF_ASSIGN_OR_RETURN(bytes[name], ToBytes(t, *b));
    }
    QEFF_ASSIGN_OR_RETURN(auto outs, run_->Run(bytes));
    TensorMap result;
    for (const auto& [name, want] : dims->second) {
      auto it = outs.find(name);
      const aic::Binding* b = Find(name);
      if (it == outs.end() || !b)
        return absl::InternalError(
            absl::StrCat("aic: the runtime returned no output '", name, "'"));
      QEFF_ASSIGN_OR_RETURN(result[name], FromBytes(it->second, *b, want));
    }
    return result;
  }
  absl::Status ResetState() override { return absl::OkStatus(); }
  absl::Status ResetSlot(int64_t slot) override {
    (void)slot;
    return absl::OkStatus();
  }

 private:
  const aic::Binding* Find(const std::string& name) const {
    for (const aic::Binding& b : run_->bindings())
      if (b.name == name) return &b;
    return nullptr;
  }
  static absl::StatusOr<std::vector<uint8_t>> ToBytes(const ir::Tensor& t,
                                                      const aic::Binding& b) {
    std::vector<uint8_t> out;
    const int64_t n = t.num_elements();
    if (b.data_type == 7 && t.dtype() == ir::DType::kI64) {
      out.assign(t.raw(), t.raw() + t.byte_size());
    } else if (b.data_type == 6 && t.dtype() == ir::DType::kI64) {
      out.resize(n * 4);
      for (int64_t i = 0; i < n; ++i) {
        const int32_t v = static_cast<int32_t>(t.data<int64_t>()[i]);
        std::memcpy(out.data() + 4 * i, &v, 4);
      }
    } else if (b.data_type == 0 && t.dtype() == ir::DType::kF32) {
      out.assign(t.raw(), t.raw() + t.byte_size());
    } else if (b.data_type == 1 && t.dtype() == ir::DType::kF32) {
      out.resize(n * 2);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = ir::FloatToHalf(t.data<float>()[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
    } else {
      return absl::UnimplementedError(
          absl::StrCat("aic: input '", b.name, "' is ", t.TypeString(),
                       " but the program binds data type ", b.data_type));
    }
    return out;
  }
  static absl::StatusOr<ir::Tensor> FromBytes(
      const std::vector<uint8_t>& in, const aic::Binding& b,
      const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    const size_t elem = b.data_type == 1 ? 2 : 4;
    if (b.data_type != 0 && b.data_type != 1)
      return absl::UnimplementedError(absl::StrCat(
          "aic: output '", b.name, "' has data type ", b.data_type));
    if (in.size() < static_cast<size_t>(n) * elem)
      return absl::InternalError(absl::StrCat("aic: output '", b.name, "' has ",
                                              in.size(), " bytes, need ",
                                              n * static_cast<int64_t>(elem)));
    ir::Tensor t = ir::Tensor::Zeros(ir::DType::kF32, dims);
    float* f = t.mutable_data<float>();
    for (int64_t i = 0; i < n; ++i) {
      if (elem == 4) {
        std::memcpy(&f[i], in.data() + 4 * i, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, in.data() + 2 * i, 2);
        f[i] = ir::HalfToFloat(h);
      }
    }
    return t;
  }

  std::shared_ptr<const AicProgram> p_;
  std::unique_ptr<aic::LoadedProgram> run_;
};

class AicDevice : public Device {
 public:
  AicDevice(aic::Sdk sdk, int id) : sdk_(std::move(sdk)), id_(id) {}
  std::string name() const override { return absl::StrCat("aic:", id_); }
  std::string kind() const override { return "aic"; }
  std::string target() const override {
    return absl::StrCat("aic/ai100/apps-", sdk_.apps_version.empty()
                                               ? "unknown"
                                               : sdk_.apps_version);
  }

  std::string ProgramKeyOptionsJson(const CompileOptions& o) const override {
    return absl::StrCat(
        "{\"mxfp6_matmul\":", o.mxfp6_matmul ? "true" : "false",
        ",\"mxint8_kv_cache\":", o.mxint8_kv_cache ? "true" : "false",
        ",\"num_cores\":", o.num_cores, ",\"num_devices\":", o.num_devices,
        ",\"mos\":", o.aic_mos, ",\"aic_enable_depth_first\":",
        o.aic_enable_depth_first ? "true" : "false", "}");
  }

  // qaic-exec runs for minutes on real models: blocking work.
  bool CompileBlocks() const override { return true; }

  absl::StatusOr<std::shared_ptr<const Program>> Compile(
      const ir::Graph& graph, const std::vector<Specialization>& specs,
      const CompileOptions& options) override {
    if (options.weight_format != ir::QuantFormat::kNone &&
        options.weight_format != ir::QuantFormat::kMXFP6)
      return absl::UnimplementedError(
          absl::StrCat("aic driver: weight_format ",
                       ir::QuantFormatName(options.weight_format),
                       " is not a Cloud AI 100 compiler option (mxfp6 is)"));
    QEFF_ASSIGN_OR_RETURN(GraphIO io, BindGraphIO(graph, specs));
    std::vector<std::string> state;
    for (const BoundIO& s : io.state) state.push_back(s.name);
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/qeff-aic-XXXXXX");
    if (!::mkdtemp(tmpl.data()))
      return absl::InternalError(
          absl::StrCat("aic driver: cannot create ", tmpl));
    const std::string dir = tmpl;
    const std::string onnx = dir + "/model.onnx";
    // Removed on every early return; the program owns it on success.
    auto scratch = std::make_shared<AicProgram>();
    scratch->work_dir = dir;
    QEFF_RETURN_IF_ERROR(ir::ExportOnnx(graph, onnx));
    CompileOptions o = options;
    if (o.weight_format == ir::QuantFormat::kMXFP6) o.mxfp6_matmul = true;
    QEFF_ASSIGN_OR_RETURN(aic::CompileFiles files,
                          aic::WriteCompileFiles(aic::CommandStyle::kBaseModel,
                                                 dir, onnx, specs, state, o));
    const std::vector<std::string> argv =
        aic::CompileCommand(aic::CommandStyle::kBaseModel, sdk_, files, o);
    QEFF_RETURN_IF_ERROR(aic::RunCompiler(argv));
    if (!base::FileExists(files.binary_dir + "/" + kQpcFile))
      return absl::InternalError(
          absl::StrCat("aic driver: the compiler exited 0 but wrote no ",
                       files.binary_dir, "/", kQpcFile));
    std::shared_ptr<AicProgram> p = std::move(scratch);
    p->specs = specs;
    p->qpc_dir = files.binary_dir;
    p->command = absl::StrJoin(argv, " ");
    for (const Specialization& spec : specs) {
      auto& outs = p->output_dims[spec.name];
      for (const std::string& name : io.outputs) {
        auto v = graph.FindOutput(name);
        if (!v) continue;
        const ir::Shape bound = graph.value(*v).type.shape.Bind(spec.symbols);
        if (!bound.ranked() || !bound.is_static())
          return absl::InvalidArgumentError(absl::StrCat(
              "aic driver: output '", name,
              "' has no static shape in specialization '", spec.name, "'"));
        outs[name] = bound.StaticDims();
      }
    }
    return std::shared_ptr<const Program>(std::move(p));
  }

  absl::Status SaveProgram(const Program& program, const std::string& dir,
                           const std::string& provenance_json) override {
    const auto* p = dynamic_cast<const AicProgram*>(&program);
    if (!p)
      return absl::InvalidArgumentError(
          absl::StrCat("aic driver cannot save a program compiled for '",
                       program.device_kind(), "'"));
    std::error_code ec;
    std::filesystem::copy(p->qpc_dir, dir + "/qpc",
                          std::filesystem::copy_options::recursive, ec);
    if (ec)
      return absl::InternalError(absl::StrCat("copy ", p->qpc_dir, " to ", dir,
                                              "/qpc: ", ec.message()));
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(
        dir + "/specializations.json", SpecializationsToJson(p->specs)));
    base::JsonValue q = base::JsonValue::Object();
    q.Set("device", base::JsonValue::String("aic"));
    q.Set("target", base::JsonValue::String(target()));
    q.Set("sdk", base::JsonValue::String(sdk_.Describe()));
    q.Set("compiler_command", base::JsonValue::String(p->command));
    q.Set("output_dims", OutputDimsToJson(*p));
    if (!provenance_json.empty()) {
      QEFF_ASSIGN_OR_RETURN(base::JsonValue prov,
                            base::ParseJson(provenance_json));
      q.Set("provenance", std::move(prov));
    }
    base::JsonWriteOptions wo;
    wo.indent = 2;
    return base::WriteFileAtomically(dir + "/qconfig.json",
                                     base::WriteJson(q, wo) + "\n");
  }

  absl::StatusOr<std::shared_ptr<const Program>> LoadProgram(
      const std::string& dir) override {
    const std::string qpath = dir + "/qconfig.json";
    QEFF_ASSIGN_OR_RETURN(std::string qtext, base::ReadFile(qpath));
    QEFF_ASSIGN_OR_RETURN(base::JsonValue q, base::ParseJson(qtext));
    const base::JsonValue* t = q.is_object() ? q.Find("target") : nullptr;
    if (!t || !t->is_string() || t->string_value() != target())
      return absl::FailedPreconditionError(absl::StrCat(
          qpath, ": target is not this SDK's '", target(), "'; recompile"));
    if (!base::FileExists(dir + "/qpc/" + kQpcFile))
      return absl::NotFoundError(
          absl::StrCat(dir, "/qpc/", kQpcFile, " is missing"));
    QEFF_ASSIGN_OR_RETURN(std::string stext,
                          base::ReadFile(dir + "/specializations.json"));
    auto p = std::make_shared<AicProgram>();
    QEFF_ASSIGN_OR_RETURN(p->specs, ParseSpecializationsJson(
                                        stext, dir + "/specializations.json"));
    p->qpc_dir = dir + "/qpc";
    if (const base::JsonValue* c = q.Find("compiler_command"))
      if (c->is_string()) p->command = c->string_value();
    const base::JsonValue* od = q.Find("output_dims");
    if (!od)
      return absl::InvalidArgumentError(
          absl::StrCat(qpath, ": no \"output_dims\""));
    QEFF_RETURN_IF_ERROR(OutputDimsFromJson(*od, qpath, p.get()));
    return std::shared_ptr<const Program>(std::move(p));
  }

  absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program) override {
    auto p = std::dynamic_pointer_cast<const AicProgram>(program);
    if (!p)
      return absl::InvalidArgumentError(
          absl::StrCat("aic driver cannot load a program compiled for '",
                       program ? program->device_kind() : "nothing", "'"));
    if (sdk_.runtime_lib.empty())
      return absl::FailedPreconditionError(absl::StrCat(
          "aic driver: no runtime library under ", sdk_.root,
          " (dev/lib/x86_64/libQAic.so or lib/libQAic.so); the compiled "
          "program is at ",
          p->qpc_dir));
    if (!runtime_) {
      QEFF_ASSIGN_OR_RETURN(runtime_, aic::Runtime::Open(sdk_.runtime_lib));
    }
    QEFF_ASSIGN_OR_RETURN(std::unique_ptr<aic::LoadedProgram> run,
                          runtime_->Load(p->qpc_dir, id_));
    return std::unique_ptr<Session>(new AicSession(p, std::move(run)));
  }

 private:
  aic::Sdk sdk_;
  int id_;
  std::shared_ptr<aic::Runtime> runtime_;  // opened on first Load
};

}  // namespace

absl::StatusOr<std::unique_ptr<Device>> OpenAicDevice(absl::string_view spec) {
  int id = 0;
  if (spec != "aic") {
    if (!absl::StartsWith(spec, "aic:") ||
        !absl::SimpleAtoi(spec.substr(4), &id) || id < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("device '", spec, "': use aic or aic:N (N >= 0)"));
  }
  auto sdk = aic::DetectSdk();
  if (!sdk.ok())
    return absl::FailedPreconditionError(
        absl::StrCat("device '", spec, "': ", sdk.status().message()));
  return std::unique_ptr<Device>(new AicDevice(*std::move(sdk), id));
}

namespace {
const bool kRegistered = RegisterDriver("aic", 30, &OpenAicDevice);
}  // namespace

}  // namespace qeff::hw
