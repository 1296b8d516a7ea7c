#include "tools/run_flags.h"

#include "absl/flags/flag.h"
#include "base/status_macros.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, prompt, "Once upon a time",
          "prompt text; several separated by '|'");
ABSL_FLAG(std::string, prompts_txt_file_path, "",
          "a text file with one prompt per line (instead of --prompt)");
ABSL_FLAG(std::string, prompts_file, "", "alias of --prompts_txt_file_path");
ABSL_FLAG(std::string, prompt_ids, "",
          "comma-separated token ids fed as given (no BOS); several prompts "
          "separated by '|'; instead of --prompt");
ABSL_FLAG(int64_t, generation_len, 0,
          "tokens to generate (0: fill the context, ctx_len - prompt length)");
ABSL_FLAG(bool, stop_at_eos, true, "stop after the end-of-sequence token");
ABSL_FLAG(std::string, output_json, "", "also write the results as JSON here");
// QEfficient's sampler parameters; the defaults are greedy decoding.
ABSL_FLAG(float, temperature, 0.0f, "sampling temperature (0: greedy)");
ABSL_FLAG(int64_t, top_k, 0, "sample from the k most likely (0: no limit)");
ABSL_FLAG(float, top_p, 1.0f, "nucleus sampling mass (1: off)");
ABSL_FLAG(float, min_p, 0.0f, "drop tokens below min_p x the most likely");
ABSL_FLAG(float, repetition_penalty, 1.0f, "repetition penalty (1: off)");
ABSL_FLAG(float, presence_penalty, 0.0f, "presence penalty (0: off)");
ABSL_FLAG(uint64_t, seed, 0, "sampling seed (prompt i uses seed + i)");
ABSL_FLAG(std::string, profile, "",
          "record the device's kernel steps during generation: a Chrome trace "
          "(chrome://tracing, Perfetto) written here, a per-kernel summary "
          "on stderr (the cpu driver records; other devices do not)");

namespace qeff::tools {

absl::StatusOr<RunRequest> RunRequestFromFlags(const std::string& model_path) {
  RunRequest req;
  req.model_path = model_path;
  req.prompt = absl::GetFlag(FLAGS_prompt);
  QEFF_ASSIGN_OR_RETURN(
      std::string prompts_file,
      Either(FLAGS_prompts_txt_file_path, FLAGS_prompts_file,
             "prompts_txt_file_path", "prompts_file", std::string()));
  req.prompts_file = UserPath(prompts_file);
  req.prompt_ids = absl::GetFlag(FLAGS_prompt_ids);
  req.generation_len = absl::GetFlag(FLAGS_generation_len);
  req.stop_at_eos = absl::GetFlag(FLAGS_stop_at_eos);
  req.output_json = UserPath(absl::GetFlag(FLAGS_output_json));
  req.profile = UserPath(absl::GetFlag(FLAGS_profile));
  engine::SamplingParams& p = req.sampling;
  p.temperature = absl::GetFlag(FLAGS_temperature);
  p.top_k = absl::GetFlag(FLAGS_top_k);
  p.top_p = absl::GetFlag(FLAGS_top_p);
  p.min_p = absl::GetFlag(FLAGS_min_p);
  p.repetition_penalty = absl::GetFlag(FLAGS_repetition_penalty);
  p.presence_penalty = absl::GetFlag(FLAGS_presence_penalty);
  p.seed = absl::GetFlag(FLAGS_seed);
  QEFF_RETURN_IF_ERROR(engine::ValidateSamplingParams(p));
  return req;
}

}  // namespace qeff::tools
