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
#include "tools/model_flags.h"
#include "tools/run_flags.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, qpc_path, "",
          "the program folder, or its qpcs/ or qpc/ subfolder (required)");
ABSL_FLAG(std::string, device_group, "", "device ids, e.g. [0]");
ABSL_FLAG(std::string, device, "",
          "device (empty: the kind the program was compiled for)");
ABSL_FLAG(int64_t, full_batch_size, 0,
          "must match the program's (0: whatever it was compiled with)");

namespace qeff::tools {
namespace {

absl::Status Run(const std::string& argv0) {
  QEFF_ASSIGN_OR_RETURN(const std::string path, ModelPathFromFlags(argv0));
  QEFF_ASSIGN_OR_RETURN(RunRequest req, RunRequestFromFlags(path));
  const std::string qpc = UserPath(absl::GetFlag(FLAGS_qpc_path));
  if (qpc.empty()) return absl::InvalidArgumentError("--qpc_path is required");
  QEFF_ASSIGN_OR_RETURN(std::vector<int> group,
                        ParseDeviceGroup(absl::GetFlag(FLAGS_device_group)));
  std::string device = absl::GetFlag(FLAGS_device);
  if (!device.empty() || !group.empty()) {
    QEFF_ASSIGN_OR_RETURN(
        device, DeviceForGroup(device.empty() ? "cpu" : device, group));
  }
  QEFF_ASSIGN_OR_RETURN(auto model,
                        engine::QEFFAutoModelForCausalLM::FromPretrained(
                            path, ModelOptionsFromFlags()));
  QEFF_RETURN_IF_ERROR(model->UseProgram(qpc, device));
  const int64_t fbs = absl::GetFlag(FLAGS_full_batch_size);
  if (fbs > 0 && fbs != model->compile_params().full_batch_size)
    return absl::InvalidArgumentError(
        absl::StrCat("--full_batch_size ", fbs, ": ", model->qpc_path(),
                     " was compiled with full_batch_size ",
                     model->compile_params().full_batch_size));
  std::cout << "Device: " << model->device()->name() << "\n";
  return GenerateAndReport(*model, req);
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(
      argc, argv, "execute",
      "QEfficient's cloud.execute: run a compiled program.", qeff::tools::Run);
}
