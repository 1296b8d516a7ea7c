#include "hw/sim/sim_driver.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "hw/device_registry.h"
#include "hw/sim/ai100_model.h"

namespace qeff::hw {
namespace {

constexpr char kEstimateFile[] = "sim_estimate.json";

class SimProgram : public Program {
 public:
  SimProgram(std::shared_ptr<const Program> host, std::string report)
      : host(std::move(host)), report(std::move(report)) {}
  const std::vector<Specialization>& specializations() const override {
    return host->specializations();
  }
  std::string device_kind() const override { return "sim"; }
  std::string PerformanceReportJson() const override { return report; }

  std::shared_ptr<const Program> host;  // the cpu program
  std::string report;                   // EstimateToJson
};

class SimDevice : public Device {
 public:
  SimDevice(sim::Ai100Sku sku, std::unique_ptr<Device> host)
      : sku_(std::move(sku)), host_(std::move(host)) {}
  std::string name() const override { return "sim:" + sku_.name; }
  std::string kind() const override { return "sim"; }
  int cores() const override { return sku_.cores_per_soc; }
  std::string target() const override {
    return absl::StrCat("sim-", sku_.name, "/", host_->target());
  }

  // The host program's options and the card placement.
  std::string ProgramKeyOptionsJson(
      const CompileOptions& options) const override {
    return absl::StrCat(
        "{\"host\":", host_->ProgramKeyOptionsJson(HostOptions(options)),
        ",\"num_cores\":", options.num_cores,
        ",\"num_devices\":", options.num_devices, "}");
  }

  absl::StatusOr<std::shared_ptr<const Program>> Compile(
      const ir::Graph& graph, const std::vector<Specialization>& specs,
      const CompileOptions& options) override {
    std::vector<sim::Workload> work;
    for (const Specialization& s : specs) {
      QEFF_ASSIGN_OR_RETURN(sim::Workload w, sim::WorkloadOfGraph(graph, s));
      work.push_back(std::move(w));
    }
    sim::Placement p;
    p.num_cores = options.num_cores;
    p.num_devices = options.num_devices;
    p.mxfp6_matmul = options.mxfp6_matmul ||
                     options.weight_format == ir::QuantFormat::kMXFP6;
    p.mxint8_kv_cache = options.mxint8_kv_cache;
    auto est = sim::EstimateWorkloads(work, sku_, p);
    if (!est.ok())
      return absl::Status(est.status().code(),
                          absl::StrCat(name(), ": ", est.status().message()));
    QEFF_ASSIGN_OR_RETURN(std::shared_ptr<const Program> host,
                          host_->Compile(graph, specs, HostOptions(options)));
    return std::shared_ptr<const Program>(std::make_shared<SimProgram>(
        std::move(host), sim::EstimateToJson(*est)));
  }

  absl::Status SaveProgram(const Program& program, const std::string& dir,
                           const std::string& provenance_json) override {
    const auto* p = dynamic_cast<const SimProgram*>(&program);
    if (!p)
      return absl::InvalidArgumentError(
          absl::StrCat("sim driver cannot save a program compiled for '",
                       program.device_kind(), "'"));
    QEFF_RETURN_IF_ERROR(host_->SaveProgram(*p->host, dir, provenance_json));
    return base::WriteFileAtomically(dir + "/" + kEstimateFile,
                                     p->report + "\n");
  }

  absl::StatusOr<std::shared_ptr<const Program>> LoadProgram(
      const std::string& dir) override {
    const std::string path = dir + "/" + kEstimateFile;
    QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path));
    QEFF_ASSIGN_OR_RETURN(base::JsonValue j, base::ParseJson(text));
    const base::JsonValue* d = j.is_object() ? j.Find("device") : nullptr;
    if (!d || !d->is_string() || d->string_value() != name())
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": \"device\" is not '", name(), "'"));
    QEFF_ASSIGN_OR_RETURN(std::shared_ptr<const Program> host,
                          host_->LoadProgram(dir));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return std::shared_ptr<const Program>(
        std::make_shared<SimProgram>(std::move(host), std::move(text)));
  }

  absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program) override {
    return Load(std::move(program), LoadOptions{});
  }

  // num_cores is the card's; the host session runs on the host device.
  absl::StatusOr<std::unique_ptr<Session>> Load(
      std::shared_ptr<const Program> program,
      const LoadOptions& options) override {
    auto p = std::dynamic_pointer_cast<const SimProgram>(program);
    if (!p)
      return absl::InvalidArgumentError(
          absl::StrCat("sim driver cannot load a program compiled for '",
                       program ? program->device_kind() : "nothing", "'"));
    if (options.num_cores > sku_.cores_per_soc)
      return absl::InvalidArgumentError(
          absl::StrCat(name(), ": num_cores=", options.num_cores, " but a ",
                       sku_.name, " SoC has ", sku_.cores_per_soc));
    return host_->Load(p->host, LoadOptions{});
  }

 private:
  static CompileOptions HostOptions(const CompileOptions& o) {
    CompileOptions h = o;
    h.num_cores = 0;
    h.num_devices = 1;
    return h;
  }

  sim::Ai100Sku sku_;
  std::unique_ptr<Device> host_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Device>> OpenSimDevice(absl::string_view spec) {
  absl::string_view sku = "ai100-ultra";
  if (spec != "sim") {
    if (!absl::StartsWith(spec, "sim:"))
      return absl::InvalidArgumentError(
          absl::StrCat("device '", spec, "' is not a sim device"));
    sku = spec.substr(4);
  }
  auto s = sim::FindSku(sku);
  if (!s.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("device '", spec, "': ", s.status().message()));
  QEFF_ASSIGN_OR_RETURN(std::unique_ptr<Device> host, OpenDevice("cpu"));
  return std::unique_ptr<Device>(new SimDevice(*s, std::move(host)));
}

namespace {
const bool kRegistered = RegisterDriver("sim", 20, &OpenSimDevice);
}  // namespace

}  // namespace qeff::hw
