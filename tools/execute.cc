// execute: QEfficient's `cloud.execute` — run a compiled program (from
// infer or compile) with the model's tokenizer and print exactly what infer
// prints after compiling (the run report).
//
//   bazel run //tools:execute -- --model_name gpt2
//       --qpc_path <dir>/qpcs --prompt "Once upon a time in"
//       --device_group [0]
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/qeff_auto_model.h"
#include "tools/cli.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, model_name, "",
          "the model whose tokenizer to use (a .gguf, a Hugging Face folder, "
          "ORG/NAME; empty: the embedded stories260K)");
ABSL_FLAG(std::string, model, "", "alias of --model_name");
ABSL_FLAG(std::string, local_model_dir, "", "a local Hugging Face folder");
ABSL_FLAG(std::string, cache_dir, "", "the Hugging Face hub cache");
ABSL_FLAG(std::string, tokenizer, "", "tokenizer for llama2.c checkpoints");
ABSL_FLAG(std::string, qpc_path, "",
          "the program folder, or its qpcs/ or qpc/ subfolder (required)");
ABSL_FLAG(std::string, device_group, "", "device ids, e.g. [0]");
ABSL_FLAG(std::string, device, "",
          "device (empty: the kind the program was compiled for)");
ABSL_FLAG(std::string, prompt, "Once upon a time",
          "prompt text; several separated by '|'");
ABSL_FLAG(std::string, prompts_txt_file_path, "",
          "a text file with one prompt per line");
ABSL_FLAG(std::string, prompt_ids, "", "comma-separated ids ('|' between)");
ABSL_FLAG(int64_t, generation_len, 0,
          "tokens to generate (0: fill the context)");
ABSL_FLAG(int64_t, full_batch_size, 0,
          "must match the program's (0: whatever it was compiled with)");
ABSL_FLAG(std::string, output_json, "", "also write the results as JSON");
ABSL_FLAG(bool, stop_at_eos, true, "stop after the end-of-sequence token");

namespace qeff::tools {
namespace {

absl::Status Run(const std::string& argv0) {
  QEFF_ASSIGN_OR_RETURN(std::string path,
                        Either(FLAGS_model_name, FLAGS_model, "model_name",
                               "model", std::string()));
  if (!absl::GetFlag(FLAGS_local_model_dir).empty())
    path = absl::GetFlag(FLAGS_local_model_dir);
  path = path.empty() ? EmbeddedModelPath(argv0) : UserPath(path);
  const std::string qpc = UserPath(absl::GetFlag(FLAGS_qpc_path));
  if (qpc.empty()) return absl::InvalidArgumentError("--qpc_path is required");
  QEFF_ASSIGN_OR_RETURN(std::vector<int> group,
                        ParseDeviceGroup(absl::GetFlag(FLAGS_device_group)));
  std::string device = absl::GetFlag(FLAGS_device);
  if (!device.empty() || !group.empty()) {
    QEFF_ASSIGN_OR_RETURN(
        device, DeviceForGroup(device.empty() ? "cpu" : device, group));
  }
  engine::FromPretrainedOptions fo;
  fo.tokenizer_path = UserPath(absl::GetFlag(FLAGS_tokenizer));
  fo.hub_cache_dir = UserPath(absl::GetFlag(FLAGS_cache_dir));
  QEFF_ASSIGN_OR_RETURN(
      auto model, engine::QEFFAutoModelForCausalLM::FromPretrained(path, fo));
  QEFF_RETURN_IF_ERROR(model->UseProgram(qpc, device));
  const int64_t fbs = absl::GetFlag(FLAGS_full_batch_size);
  if (fbs > 0 && fbs != model->compile_params().full_batch_size)
    return absl::InvalidArgumentError(
        absl::StrCat("--full_batch_size ", fbs, ": ", model->qpc_path(),
                     " was compiled with full_batch_size ",
                     model->compile_params().full_batch_size));
  std::cout << "Device: " << model->device()->name() << "\n";
  RunRequest req;
  req.model_path = path;
  req.prompt = absl::GetFlag(FLAGS_prompt);
  req.prompts_file = UserPath(absl::GetFlag(FLAGS_prompts_txt_file_path));
  req.prompt_ids = absl::GetFlag(FLAGS_prompt_ids);
  req.generation_len = absl::GetFlag(FLAGS_generation_len);
  req.stop_at_eos = absl::GetFlag(FLAGS_stop_at_eos);
  req.sampling = SamplingFromFlags();
  req.output_json = UserPath(absl::GetFlag(FLAGS_output_json));
  return GenerateAndReport(*model, req);
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(
      argc, argv, "execute",
      "QEfficient's cloud.execute: run a compiled program.", qeff::tools::Run);
}
