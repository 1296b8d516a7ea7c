#include "hw/aic/aic_driver.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "hw/aic/aic_compile.h"
#include "hw/device_registry.h"
#include "hw/graph_io.h"
#include "ir/onnx_export.h"

namespace qeff::hw {
namespace {

constexpr char kQpcFile[] = "programqpc.bin";

class AicProgram : public Program {
 public:
  const std::vector<Specialization>& specializations() const override {
    return specs;
  }
  std::string device_kind() const override { return "aic"; }

  std::vector<Specialization> specs;
  std::string qpc_dir;  // holds programqpc.bin
  std::string command;  // the compiler command line
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
    auto p = std::make_shared<AicProgram>();
    p->specs = specs;
    p->qpc_dir = files.binary_dir;
    p->command = absl::StrJoin(argv, " ");
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
    return std::shared_ptr<const Program>(std::move(p));
  }

  absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program) override {
    return absl::UnimplementedError(absl::StrCat(
        "aic driver: running a program on ", name(), " needs the SDK runtime (",
        sdk_.runtime_lib.empty() ? sdk_.root + "/dev/lib/x86_64/libQAic.so"
                                 : sdk_.runtime_lib,
        "), which this build does not bind; the compiled program is at ",
        program ? static_cast<const AicProgram&>(*program).qpc_dir : ""));
  }

 private:
  aic::Sdk sdk_;
  int id_;
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
