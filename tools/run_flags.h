// The generation flags of the tools that run a program (infer, execute),
// defined once: --prompt (several separated by '|'),
// --prompts_txt_file_path (alias --prompts_file), --prompt_ids,
// --generation_len, --stop_at_eos, --output_json and QEfficient's sampler
// parameters (--temperature, --top_k, --top_p, --min_p,
// --repetition_penalty, --presence_penalty, --seed), and --profile. Only binaries that
// depend on //tools:run_flags have them.
#ifndef QEFF_TOOLS_RUN_FLAGS_H_
#define QEFF_TOOLS_RUN_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "tools/cli.h"

namespace qeff::tools {

// The request the flags describe (paths resolved against the user's
// directory); exclusive flags given together are an error naming them.
absl::StatusOr<RunRequest> RunRequestFromFlags(const std::string& model_path);

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_RUN_FLAGS_H_
