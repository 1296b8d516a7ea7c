#include "passes/export.h"

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/params_hash.h"
#include "base/status_macros.h"
#include "passes/pass_pipeline.h"
#include "passes/pipelines.h"

namespace qeff::passes {
namespace {

base::JsonValue OptionsDict(const ExportArtifactOptions& o) {
  base::JsonValue names = base::JsonValue::Array();
  for (const std::string& n : ExportPipelineNames(o.fp16_clip))
    names.Append(base::JsonValue::String(n));
  base::JsonValue d = base::JsonValue::Object();
  d.Set("passes", std::move(names));
  d.Set("fold_max_input_bytes",
        base::JsonValue::Int(static_cast<int64_t>(kExportFoldMaxInputBytes)));
  d.Set("external_data_threshold", base::JsonValue::Int(static_cast<int64_t>(
                                       o.onnx.external_data_threshold)));
  d.Set("all_inline", base::JsonValue::Bool(o.onnx.all_inline));
  d.Set("ir_version", base::JsonValue::Int(8));
  d.Set("opset", base::JsonValue::Int(17));
  return d;
}

}  // namespace

absl::Status RunExportPasses(ir::Graph& g, bool fp16_clip) {
  PassPipeline p;
  AddExportPipeline(p, fp16_clip);
  auto changed = p.Run(g);
  if (!changed.ok()) return changed.status();
  g.RemoveDeadCode();
  return absl::OkStatus();
}

absl::StatusOr<ExportedArtifact> ExportArtifact(
    const ir::Graph& transformed, const ExportArtifactOptions& o) {
  if ((o.qeff_home.empty() && o.export_dir.empty()) || o.architecture.empty())
    return absl::InvalidArgumentError(
        "export: qeff_home (or export_dir) and architecture are required");
  const std::string model_class =
      o.model_class.empty() ? o.architecture : o.model_class;
  if (!o.params.is_object())
    return absl::InvalidArgumentError("export: params must be a JSON object");
  base::JsonValue params = o.params;
  params.Set("export", OptionsDict(o));
  ExportedArtifact a;
  a.hash16 = base::HashParams(params);
  a.params = params;
  a.dir = o.export_dir.empty() ? absl::StrCat(o.qeff_home, "/", o.architecture,
                                              "/", model_class, "-", a.hash16)
                               : absl::StrCat(o.export_dir, "-", a.hash16);
  a.onnx_path = absl::StrCat(a.dir, "/", model_class, ".onnx");
  auto fill = [&](const std::string& tmp) -> absl::Status {
    ir::Graph g = transformed;
    QEFF_RETURN_IF_ERROR(RunExportPasses(g, o.fp16_clip));
    QEFF_RETURN_IF_ERROR(ir::ExportOnnx(
        g, absl::StrCat(tmp, "/", model_class, ".onnx"), o.onnx));
    return base::WriteFileAtomically(
        absl::StrCat(tmp, "/hashed_export_params.json"),
        base::ParamsFileText(params));
  };
  absl::StatusOr<bool> published = base::PublishDirectory(a.dir, fill);
  if (!published.ok())
    return absl::Status(published.status().code(),
                        absl::StrCat("export: ", published.status().message()));
  a.reused = !*published;
  return a;
}

}  // namespace qeff::passes
