// The model-selection flags of the tools that load a model (infer, export,
// execute, perplexity), defined once: --model_name (alias --model),
// --local_model_dir, --cache_dir, --tokenizer, and --hf_token (refused:
// qeff runs offline). Only binaries that depend on //tools:model_flags have
// them.
#ifndef QEFF_TOOLS_MODEL_FLAGS_H_
#define QEFF_TOOLS_MODEL_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/qeff_auto_model.h"

namespace qeff::tools {

// The model path the flags name (resolved against the user's directory);
// none: the embedded stories260K of the binary `argv0`. Conflicting flags
// and --hf_token are errors naming them.
absl::StatusOr<std::string> ModelPathFromFlags(const std::string& argv0);

// FromPretrainedOptions with the tokenizer and hub cache the flags give.
engine::FromPretrainedOptions ModelOptionsFromFlags();

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_MODEL_FLAGS_H_
