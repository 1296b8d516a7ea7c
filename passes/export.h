// Export: the ONNX artifact of a transformed graph, in QEfficient's layout
// (DESIGN.md "Contracts"):
//   <qeff_home>/<architecture>/<model_class>-<hash16>/<model_class>.onnx
//                                                    (+ .onnx.data,
//                                                     hashed_export_params.json)
// On a copy of the graph it runs the export pipeline — constant folding
// (weights' Transposes become transposed initializers, as torch.onnx does),
// dead-code removal, FP16 clip — then ir::ExportOnnx (external data, unique
// names, custom-op function bodies, onnx::checker + strict shape inference).
// The key is SHA-256 over `params_json` (computed by the caller, who knows
// the model's identity) and the export options; an artifact that exists is
// reused; a half-written one never exists (written in a temporary folder,
// then renamed).
#ifndef QEFF_PASSES_EXPORT_H_
#define QEFF_PASSES_EXPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "ir/onnx_export.h"

namespace qeff::passes {

struct ExportArtifactOptions {
  std::string qeff_home;     // root of the artifact cache
  std::string architecture;  // folder, e.g. "LlamaForCausalLM"
  std::string model_class = "QEFFAutoModelForCausalLM";
  // Canonical JSON describing everything that changes the artifact except
  // the export options (model config, weight digests, transforms, version).
  std::string params_json;
  bool fp16_clip = true;
  ir::ExportOptions onnx;
};

struct ExportedArtifact {
  std::string dir;
  std::string onnx_path;
  std::string hash16;
  bool reused = false;
};

absl::StatusOr<ExportedArtifact> ExportArtifact(
    const ir::Graph& transformed, const ExportArtifactOptions& options);

// The export pipeline alone, in place (for tests and tools).
absl::Status RunExportPasses(ir::Graph& g, bool fp16_clip);

}  // namespace qeff::passes

#endif  // QEFF_PASSES_EXPORT_H_
