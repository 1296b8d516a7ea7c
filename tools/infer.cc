// infer: QEfficient's `cloud.infer` — load a model, export it, compile it
// for a device with prefill/decode specializations, generate and print
// QEfficient's run report. Its flags are QEfficient's (with `-` or `_`),
// plus ours (--device, --prompt_ids, --output_json, --stop_at_eos).
//
//   bazel run //tools:infer -- --model_name gpt2 --batch_size 1
//       --prompt_len 32 --ctx_len 128 --mxfp6 --num_cores 16
//       --device_group [0] --prompt "My name is" --mos 1
//       --aic_enable_depth_first
//
// With no --model_name it runs the embedded stories260K (a real trained
// tiny Llama shipped in the repository).
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "engine/qeff_auto_model.h"
#include "tools/cli.h"
#include "tools/model_flags.h"
#include "tools/run_flags.h"
#include "tools/tool_util.h"

ABSL_FLAG(int64_t, batch_size, 1, "static batch size");
ABSL_FLAG(int64_t, full_batch_size, 0,
          "continuous batching with this many cache slots (0: off)");
ABSL_FLAG(int64_t, prompt_len, 32, "prefill chunk length (seq_len)");
ABSL_FLAG(int64_t, ctx_len, 128, "context length (cache slots)");
ABSL_FLAG(int32_t, num_cores, 0,
          "cores for the program (0: the device's; more than the device has "
          "uses what it has)");
ABSL_FLAG(std::string, device_group, "",
          "device ids, e.g. [0]; [k] picks card k of --device=cpu:N");
ABSL_FLAG(std::string, device, "cpu",
          "device: cpu | cpu:N (card 0 of N) | cpu:N/k | reference | "
          "sim:ai100-standard|pro|ultra (host outputs, modelled card times)");
ABSL_FLAG(bool, mxfp6, false, "compile matmul weights to MXFP6");
ABSL_FLAG(bool, mxfp6_matmul, false, "alias of --mxfp6");
ABSL_FLAG(bool, mxint8, false, "MXINT8 KV cache");
ABSL_FLAG(bool, mxint8_kv_cache, false, "alias of --mxint8");
ABSL_FLAG(int32_t, mos, 1,
          "Cloud AI 100 compiler effort level (recorded; no effect on host "
          "devices)");
ABSL_FLAG(bool, aic_enable_depth_first, false,
          "Cloud AI 100 depth-first compilation (recorded; no effect on "
          "host devices)");
ABSL_FLAG(bool, enable_qnn, false, "refused: QNN is not supported");

namespace qeff::tools {
namespace {

absl::Status Run(const std::string& argv0) {
  if (absl::GetFlag(FLAGS_enable_qnn))
    return absl::UnimplementedError("--enable_qnn: QNN is not supported");
  QEFF_ASSIGN_OR_RETURN(const std::string model_path,
                        ModelPathFromFlags(argv0));
  QEFF_ASSIGN_OR_RETURN(RunRequest req, RunRequestFromFlags(model_path));
  const int64_t fbs = absl::GetFlag(FLAGS_full_batch_size);
  const int64_t batch = absl::GetFlag(FLAGS_batch_size);
  if (fbs < 0 || batch < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "--batch_size must be >= 1 and --full_batch_size >= 0 (got ", batch,
        " and ", fbs, ")"));
  if (fbs > 0 && batch > 1)
    return absl::InvalidArgumentError(
        "--batch_size > 1 and --full_batch_size are exclusive (continuous "
        "batching decodes full_batch_size rows)");

  engine::FromPretrainedOptions fo = ModelOptionsFromFlags();
  fo.continuous_batching = fbs > 0;
  QEFF_ASSIGN_OR_RETURN(
      auto model,
      engine::QEFFAutoModelForCausalLM::FromPretrained(model_path, fo));

  engine::CompileParams cp;
  cp.prefill_seq_len = absl::GetFlag(FLAGS_prompt_len);
  cp.ctx_len = absl::GetFlag(FLAGS_ctx_len);
  cp.batch_size = batch;
  cp.full_batch_size = fbs;
  cp.num_cores = absl::GetFlag(FLAGS_num_cores);
  cp.mxfp6_matmul =
      absl::GetFlag(FLAGS_mxfp6) || absl::GetFlag(FLAGS_mxfp6_matmul);
  cp.mxint8_kv_cache =
      absl::GetFlag(FLAGS_mxint8) || absl::GetFlag(FLAGS_mxint8_kv_cache);
  cp.mos = absl::GetFlag(FLAGS_mos);
  cp.aic_enable_depth_first = absl::GetFlag(FLAGS_aic_enable_depth_first);
  QEFF_ASSIGN_OR_RETURN(std::vector<int> group,
                        ParseDeviceGroup(absl::GetFlag(FLAGS_device_group)));
  QEFF_ASSIGN_OR_RETURN(cp.device,
                        DeviceForGroup(absl::GetFlag(FLAGS_device), group));
  if (group.size() > 1) cp.num_devices = static_cast<int>(group.size());
  QEFF_RETURN_IF_ERROR(FitToDevice(&cp));

  QEFF_RETURN_IF_ERROR(model->Export().status());
  std::cout << (model->onnx_reused() ? "Reusing ONNX: " : "Exported ONNX: ")
            << model->onnx_path() << "\n";
  QEFF_RETURN_IF_ERROR(model->Compile(cp).status());
  std::cout << (model->program_reused() ? "Reusing program: "
                                        : "Compiled program: ")
            << model->qpc_path() << "\n";
  std::cout << "Device: " << model->device()->name() << "\n";

  return GenerateAndReport(*model, req);
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(
      argc, argv, "infer",
      "QEfficient's cloud.infer: export, compile and run a causal LM.",
      qeff::tools::Run);
}
