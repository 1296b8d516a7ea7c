// Passes and pipelines by name, for tools (//tools:opt) and for skipping or
// dumping by name. Every name maps to a factory that builds a fresh
// PassPipeline (a single pass is a pipeline of one).
#ifndef QEFF_PASSES_REGISTRY_H_
#define QEFF_PASSES_REGISTRY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "passes/pass_pipeline.h"

namespace qeff::passes {

// Names: transform_lm, transform_lm_cb, custom_rms_norm, constant_fold,
// fp16_clip (passes) and transform_lm_pipeline, transform_lm_cb_pipeline,
// export_pipeline (pipelines).
std::vector<std::string> RegisteredPassNames();

// Appends the passes of `name` to `pipeline`; an unknown name is an error
// listing the known ones.
absl::Status AddPassesByName(absl::string_view name, PassPipeline& pipeline);

}  // namespace qeff::passes

#endif  // QEFF_PASSES_REGISTRY_H_
