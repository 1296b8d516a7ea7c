#include "passes/export.h"

#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "passes/constant_fold.h"
#include "passes/fp16_clip.h"
#include "passes/pass_pipeline.h"

namespace qeff::passes {
namespace {

std::string OptionsJson(const ExportArtifactOptions& o) {
  return absl::StrCat(
      "{\"fp16_clip\":", o.fp16_clip ? "true" : "false",
      ",\"external_data_threshold\":", o.onnx.external_data_threshold,
      ",\"all_inline\":", o.onnx.all_inline ? "true" : "false",
      ",\"ir_version\":8,\"opset\":17}");
}

}  // namespace

absl::Status RunExportPasses(ir::Graph& g, bool fp16_clip) {
  PassPipeline p;
  // Folding first: it turns weight Transposes into initializers and removes
  // shape arithmetic on static shapes; FP16 clip then sees the final
  // initializers.
  p.AddPass<ConstantFolding>();
  if (fp16_clip) p.AddPass<FP16Clip>();
  auto changed = p.Run(g);
  if (!changed.ok()) return changed.status();
  g.RemoveDeadCode();
  return absl::OkStatus();
}

absl::StatusOr<ExportedArtifact> ExportArtifact(
    const ir::Graph& transformed, const ExportArtifactOptions& o) {
  if (o.qeff_home.empty() || o.architecture.empty() || o.model_class.empty())
    return absl::InvalidArgumentError(
        "export: qeff_home, architecture and model_class are required");
  const std::string params = absl::StrCat(
      "{\"model\":", o.params_json.empty() ? "null" : o.params_json,
      ",\"export\":", OptionsJson(o), "}");
  ExportedArtifact a;
  a.hash16 = base::Sha256Hex(params).substr(0, 16);
  const std::string parent = absl::StrCat(o.qeff_home, "/", o.architecture);
  a.dir = absl::StrCat(parent, "/", o.model_class, "-", a.hash16);
  a.onnx_path = absl::StrCat(a.dir, "/", o.model_class, ".onnx");
  auto fill = [&](const std::string& tmp) -> absl::Status {
    ir::Graph g = transformed;
    QEFF_RETURN_IF_ERROR(RunExportPasses(g, o.fp16_clip));
    QEFF_RETURN_IF_ERROR(ir::ExportOnnx(
        g, absl::StrCat(tmp, "/", o.model_class, ".onnx"), o.onnx));
    return base::WriteFileAtomically(
        absl::StrCat(tmp, "/hashed_export_params.json"), params + "\n");
  };
  absl::StatusOr<bool> published = base::PublishDirectory(a.dir, fill);
  if (!published.ok())
    return absl::Status(published.status().code(),
                        absl::StrCat("export: ", published.status().message()));
  a.reused = !*published;
  return a;
}

}  // namespace qeff::passes
