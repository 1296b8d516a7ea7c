// Export: the ONNX artifact of a transformed graph, in QEfficient's layout
// (DESIGN.md "Contracts"):
//   <qeff_home>/<architecture>/<model_class>-<hash16>/<model_class>.onnx
//   (or <export_dir>-<hash16>/<model_class>.onnx when export_dir is given)
//                                                    (+ .onnx.data,
//                                                     hashed_export_params.json)
// On a copy of the graph it runs the export pipeline — constant folding
// (weights' Transposes become transposed initializers, as torch.onnx does),
// dead-code removal, FP16 clip — then ir::ExportOnnx (external data, unique
// names, custom-op function bodies, onnx::checker + strict shape inference).
// The key is QEfficient's: base::HashParams over the dict `params` (from
// the caller, who knows the model's identity and transforms) with the
// export options added under "export" (the export pipeline's pass names,
// external-data threshold, opset); hashed_export_params.json holds exactly
// that dict. An artifact that exists is reused; a half-written one never
// exists (base::PublishDirectory).
#ifndef QEFF_PASSES_EXPORT_H_
#define QEFF_PASSES_EXPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "ir/graph.h"
#include "ir/onnx_export.h"

namespace qeff::passes {

struct ExportArtifactOptions {
  std::string qeff_home;  // root of the artifact cache
  // QEfficient's export_dir: when set, the folder is <export_dir>-<hash16>.
  std::string export_dir;
  std::string architecture;  // folder, e.g. "LlamaForCausalLM"
  // QEfficient's model name: the Hugging Face class ("LlamaForCausalLM");
  // the folder is <model_class>-<hash16>, the file <model_class>.onnx.
  // Empty: the architecture.
  std::string model_class;
  // A JSON object describing everything that changes the artifact except
  // the export options (model identity, weight digests, transforms, version).
  base::JsonValue params = base::JsonValue::Object();
  bool fp16_clip = true;
  ir::ExportOptions onnx;
};

struct ExportedArtifact {
  std::string dir;
  std::string onnx_path;
  std::string hash16;
  base::JsonValue params;  // the dict that was hashed (with "export")
  bool reused = false;
};

absl::StatusOr<ExportedArtifact> ExportArtifact(
    const ir::Graph& transformed, const ExportArtifactOptions& options);

// The export pipeline alone, in place (for tests and tools).
absl::Status RunExportPasses(ir::Graph& g, bool fp16_clip);

}  // namespace qeff::passes

#endif  // QEFF_PASSES_EXPORT_H_
