// The offline Hugging Face hub cache: `ORG/NAME` (optionally `@REVISION`) →
// the snapshot folder `<cache>/models--ORG--NAME/snapshots/<commit>/`, the
// commit read from `refs/<REVISION>` (default `main`) or given directly.
// The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else
// $HOME/.cache/huggingface/hub. Nothing is downloaded.
#ifndef QEFF_MODELS_HF_HUB_H_
#define QEFF_MODELS_HF_HUB_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::models {

// Whether `s` has the form of a hub id (ORG/NAME or NAME, [A-Za-z0-9._-],
// optional @revision) rather than a file path.
bool LooksLikeHubId(absl::string_view s);

// The hub cache folder per the environment (see above).
std::string DefaultHubCacheDir();

// Resolves `id` in `cache_dir` (empty: DefaultHubCacheDir()). Errors say
// which folder or ref is missing.
absl::StatusOr<std::string> ResolveHubSnapshot(
    absl::string_view id, const std::string& cache_dir = "");

}  // namespace qeff::models

#endif  // QEFF_MODELS_HF_HUB_H_
