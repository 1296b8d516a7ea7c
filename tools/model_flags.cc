#include "tools/model_flags.h"

#include "absl/flags/flag.h"
#include "base/status_macros.h"
#include "tools/cli.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, model_name, "",
          "model: a .gguf, a llama2.c .bin, a Hugging Face folder or an "
          "ORG/NAME in the offline hub cache (empty: the embedded "
          "stories260K)");
ABSL_FLAG(std::string, model, "", "alias of --model_name");
ABSL_FLAG(std::string, local_model_dir, "",
          "a local Hugging Face model folder (instead of --model_name)");
ABSL_FLAG(std::string, cache_dir, "",
          "the Hugging Face hub cache to resolve ORG/NAME in");
ABSL_FLAG(std::string, tokenizer, "",
          "tokenizer for checkpoints without one (llama2.c tokenizer.bin)");
ABSL_FLAG(std::string, hf_token, "",
          "refused: qeff runs offline (models come from local folders or "
          "the hub cache)");

namespace qeff::tools {

absl::StatusOr<std::string> ModelPathFromFlags(const std::string& argv0) {
  if (!absl::GetFlag(FLAGS_hf_token).empty())
    return absl::InvalidArgumentError(
        "--hf_token: qeff runs offline; give a local folder "
        "(--local_model_dir) or a model in the hub cache (--cache_dir)");
  QEFF_ASSIGN_OR_RETURN(std::string path,
                        Either(FLAGS_model_name, FLAGS_model, "model_name",
                               "model", std::string()));
  const std::string local = absl::GetFlag(FLAGS_local_model_dir);
  if (!local.empty()) {
    if (!path.empty() && path.find('/') != std::string::npos &&
        UserPath(path) != UserPath(local))
      return absl::InvalidArgumentError(
          "--local_model_dir and a --model_name path are both given");
    path = local;
  }
  return path.empty() ? EmbeddedModelPath(argv0) : UserPath(path);
}

engine::FromPretrainedOptions ModelOptionsFromFlags() {
  engine::FromPretrainedOptions fo;
  fo.tokenizer_path = UserPath(absl::GetFlag(FLAGS_tokenizer));
  fo.hub_cache_dir = UserPath(absl::GetFlag(FLAGS_cache_dir));
  return fo;
}

}  // namespace qeff::tools
