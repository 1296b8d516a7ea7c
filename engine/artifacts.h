// Artifact keys (DESIGN.md "Contracts": artifact layout under $QEFF_HOME).
// A model's identity for export keys is the content digest of the files it
// was loaded from (weights and configs; never paths or mtimes, so keys agree
// across clones and machines), its architecture, the transform options and
// qeff's version. Digests are computed once per file and remembered by
// path, size and mtime in `<qeff_home>/file_digests.tsv`.
#ifndef QEFF_ENGINE_ARTIFACTS_H_
#define QEFF_ENGINE_ARTIFACTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hw/driver.h"
#include "hw/specialization.h"
#include "passes/transform_lm.h"

namespace qeff::engine {

inline constexpr char kQeffVersion[] = "0.1.0";

// SHA-256 of a file's content, remembered in `<qeff_home>/file_digests.tsv`
// (rewritten atomically) by (absolute path, size, mtime).
absl::StatusOr<std::string> CachedFileDigest(const std::string& qeff_home,
                                             const std::string& path);

// The files a model source consists of: the file itself, or for a folder
// its *.json and *.safetensors files, sorted by name.
absl::StatusOr<std::vector<std::string>> ModelSourceFiles(
    const std::string& source);

// Canonical JSON of the model's identity and transform options, the input
// of passes::ExportArtifact's key.
absl::StatusOr<std::string> ExportParamsJson(
    const std::string& qeff_home, const std::string& source,
    const std::string& architecture,
    const passes::TransformLMOptions& transform);

// The folder of a compiled program beside its ONNX (DESIGN.md "Contracts"):
// `<folder of onnx_path>/qpc-<hash16>`, hash16 being SHA-256 over the
// export's hash16 (`export_hash16`), the specializations, the device kind,
// the target instruction set (`isa`, e.g. hw::cpu::ProgramIsa()), the
// compile options and qeff's version. Options at their defaults
// (num_devices 1, no mxint8_kv_cache) add nothing to the key, so keys of
// existing artifacts do not change.
std::string ProgramArtifactDir(const std::string& onnx_path,
                               const std::string& export_hash16,
                               const std::vector<hw::Specialization>& specs,
                               const std::string& device_kind,
                               const std::string& isa,
                               const hw::CompileOptions& options);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_ARTIFACTS_H_
