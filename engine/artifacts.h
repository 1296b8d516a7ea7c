// Artifact keys (DESIGN.md "Contracts": artifact layout under $QEFF_HOME).
// A model's identity for export keys is the content digest of the files it
// was loaded from (weights and configs; never paths or mtimes, so keys agree
// across clones and machines), its architecture, the transform options and
// qeff's version. Digests are computed once per file and remembered by
// path, size and mtime in `<qeff_home>/file_digests.tsv`.
#ifndef QEFF_ENGINE_ARTIFACTS_H_
#define QEFF_ENGINE_ARTIFACTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "hw/driver.h"
#include "hw/specialization.h"
#include "passes/transform_lm.h"

namespace qeff::engine {

inline constexpr char kQeffVersion[] = "0.1.0";

// $QEFF_HOME, else $XDG_CACHE_HOME/qeff_models, else ~/.cache/qeff_models
// (QEfficient's rule).
std::string DefaultQeffHome();

// SHA-256 of a file's content, remembered in `<qeff_home>/file_digests.tsv`
// (rewritten atomically) by (absolute path, size, mtime).
absl::StatusOr<std::string> CachedFileDigest(const std::string& qeff_home,
                                             const std::string& path);

// The files a model source consists of: the file itself, or for a folder
// its *.json and *.safetensors files, sorted by name.
absl::StatusOr<std::vector<std::string>> ModelSourceFiles(
    const std::string& source);

// The model's part of the export dict (QEfficient's export_params): qeff's
// version, the architecture, each model file's name and SHA-256, and the
// transform (its options and the transform_lm pipeline's pass names, from
// passes/pipelines.h). passes::ExportArtifact adds the export options and
// hashes the whole dict into the folder name.
absl::StatusOr<base::JsonValue> ExportParams(
    const std::string& qeff_home, const std::string& source,
    const std::string& architecture,
    const passes::TransformLMOptions& transform);

// The compile dict (QEfficient's compile_hash_params): the export's hash,
// the device kind and target, the compile options that change the device's
// program (Device::ProgramKeyOptionsJson), the specializations and qeff's
// version. Its base::HashParams names the program folder.
base::JsonValue CompileHashParams(const std::string& export_hash16,
                                  const std::vector<hw::Specialization>& specs,
                                  const hw::Device& device,
                                  const hw::CompileOptions& options);

// `<compile_dir>/qpc-<HashParams(compile_params)>`.
std::string ProgramDir(const std::string& compile_dir,
                       const base::JsonValue& compile_params);

// The folder of a file path ("." for a bare name).
std::string DirName(const std::string& path);

// A program folder that exists, loaded by the device; an error names the
// folder and says how to rebuild it.
absl::StatusOr<std::shared_ptr<const hw::Program>> LoadProgramDir(
    hw::Device& device, const std::string& dir);

// Publishes `dir` (base::PublishDirectory): the device's program files,
// hashed_compile_params.json (exactly `compile_params`) and qconfig.json's
// provenance. Returns false when another writer published it first.
absl::StatusOr<bool> SaveProgramDir(hw::Device& device,
                                    const hw::Program& program,
                                    const std::string& dir,
                                    const base::JsonValue& compile_params,
                                    const std::string& provenance_json);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_ARTIFACTS_H_
