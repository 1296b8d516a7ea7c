// compile: QEfficient's `cloud.compile` — compile an exported ONNX for a
// device with prefill/decode specializations into `<qpc_path>/qpcs/`
// (the device's program, specializations.json, custom_io.yaml,
// qconfig.json, hashed_compile_params.json). Prints the program folder.
//
//   bazel run //tools:compile -- --onnx_path M.onnx --qpc-path out
//       --batch_size 1 --prompt_len 32 --ctx_len 128 --mxfp6
//       --num_cores 16 --device_group [0] --mos 1 --aic_enable_depth_first
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "engine/qeff_auto_model.h"
#include "hw/device_registry.h"
#include "tools/cli.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, onnx_path, "", "the exported ONNX (required)");
ABSL_FLAG(std::string, qpc_path, "",
          "output folder (required); the program goes to <qpc_path>/qpcs");
ABSL_FLAG(std::string, output_dir, "",
          "write the program folder exactly here (for build rules: "
          "tools/defs.bzl qeff_compile); instead of --qpc_path");
ABSL_FLAG(std::string, isa, "",
          "the instruction set the program must be for (e.g. x86_64); a "
          "device of another one is an error (build rules key on it)");
ABSL_FLAG(int64_t, batch_size, 1, "static batch size");
ABSL_FLAG(int64_t, prompt_len, 32, "prefill chunk length (seq_len)");
ABSL_FLAG(int64_t, ctx_len, 128, "context length");
ABSL_FLAG(int64_t, full_batch_size, 0,
          "continuous batching slots (the ONNX must be a continuous-batching "
          "export)");
ABSL_FLAG(int32_t, num_cores, -1,
          "cores (required; more than the device has uses what it has)");
ABSL_FLAG(std::string, device_group, "", "device ids, e.g. [0] (required)");
ABSL_FLAG(std::string, device, "cpu", "device: cpu | cpu:N | reference");
ABSL_FLAG(bool, mxfp6, false, "MXFP6 matmul weights");
ABSL_FLAG(bool, mxint8, false, "MXINT8 KV cache");
ABSL_FLAG(int32_t, mos, -1,
          "Cloud AI 100 compiler effort level (recorded; no effect on host "
          "devices)");
ABSL_FLAG(bool, aic_enable_depth_first, false,
          "Cloud AI 100 depth-first compilation (recorded; no effect on host "
          "devices)");
ABSL_FLAG(std::string, custom_io_file_path, "",
          "custom_io.yaml giving the KV cache precision (float, float16 or "
          "mxint8 for every *_RetainedState-paired input); empty: the default");

namespace qeff::tools {
namespace {

// The KV precision a custom_io.yaml asks for: true for mxint8, false for
// float/float16; mixed or other precisions are errors naming the entry.
absl::StatusOr<bool> MxInt8FromCustomIo(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path));
  int mx = 0, fl = 0;
  std::string name;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumePrefix(&line, "- ");
    if (absl::ConsumePrefix(&line, "IOName:")) {
      name = std::string(absl::StripAsciiWhitespace(line));
    } else if (absl::ConsumePrefix(&line, "Precision:")) {
      absl::string_view p = absl::StripAsciiWhitespace(line);
      if (p == "mxint8") {
        ++mx;
      } else if (p == "float" || p == "float16") {
        ++fl;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": '", name, "' has precision '", p,
                         "' (supported: float, float16, mxint8)"));
      }
    }
  }
  if (mx && fl)
    return absl::UnimplementedError(absl::StrCat(
        path, ": mixed mxint8 and float cache precisions are not supported"));
  if (!mx && !fl)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no IOName/Precision entries"));
  return mx > 0;
}

absl::Status Run() {
  const std::string out = UserPath(absl::GetFlag(FLAGS_output_dir));
  const std::string qpc = UserPath(absl::GetFlag(FLAGS_qpc_path));
  if (absl::GetFlag(FLAGS_onnx_path).empty() || (qpc.empty() == out.empty()))
    return absl::InvalidArgumentError(
        "--onnx_path and one of --qpc_path / --output_dir are required");
  QEFF_ASSIGN_OR_RETURN(const std::string onnx,
                        OnnxFileOf(UserPath(absl::GetFlag(FLAGS_onnx_path))));
  if (absl::GetFlag(FLAGS_num_cores) < 0 ||
      absl::GetFlag(FLAGS_device_group).empty())
    return absl::InvalidArgumentError(
        "--num_cores and --device_group are required (e.g. --num_cores 16 "
        "--device_group [0])");
  engine::CompileParams cp;
  cp.prefill_seq_len = absl::GetFlag(FLAGS_prompt_len);
  cp.ctx_len = absl::GetFlag(FLAGS_ctx_len);
  cp.batch_size = absl::GetFlag(FLAGS_batch_size);
  cp.full_batch_size = absl::GetFlag(FLAGS_full_batch_size);
  cp.num_cores = absl::GetFlag(FLAGS_num_cores);
  cp.mxfp6_matmul = absl::GetFlag(FLAGS_mxfp6);
  cp.mxint8_kv_cache = absl::GetFlag(FLAGS_mxint8);
  cp.mos = absl::GetFlag(FLAGS_mos);
  cp.aic_enable_depth_first = absl::GetFlag(FLAGS_aic_enable_depth_first);
  const std::string custom_io =
      UserPath(absl::GetFlag(FLAGS_custom_io_file_path));
  if (!custom_io.empty()) {
    QEFF_ASSIGN_OR_RETURN(bool mx, MxInt8FromCustomIo(custom_io));
    if (absl::GetFlag(FLAGS_mxint8) && !mx)
      return absl::InvalidArgumentError(
          absl::StrCat("--mxint8 and ", custom_io, " (float cache) disagree"));
    cp.mxint8_kv_cache = mx;
  }
  QEFF_ASSIGN_OR_RETURN(std::vector<int> group,
                        ParseDeviceGroup(absl::GetFlag(FLAGS_device_group)));
  QEFF_ASSIGN_OR_RETURN(cp.device,
                        DeviceForGroup(absl::GetFlag(FLAGS_device), group));
  if (group.size() > 1) cp.num_devices = static_cast<int>(group.size());
  QEFF_RETURN_IF_ERROR(FitToDevice(&cp));
  if (!absl::GetFlag(FLAGS_isa).empty()) {
    QEFF_ASSIGN_OR_RETURN(auto device, hw::OpenDevice(cp.device));
    const std::string target = device->target();
    if (target.substr(0, target.find('/')) != absl::GetFlag(FLAGS_isa))
      return absl::FailedPreconditionError(
          absl::StrCat("--isa ", absl::GetFlag(FLAGS_isa), ": device ",
                       device->name(), " compiles for '", target, "'"));
  }
  if (!out.empty()) {
    const std::string scratch = out + ".compile";
    return InScratchFolder(scratch, [&]() -> absl::Status {
      QEFF_RETURN_IF_ERROR(engine::CompileOnnx(onnx, cp, scratch).status());
      QEFF_RETURN_IF_ERROR(PublishExactly(scratch, out));
      std::cout << "Compiled program: " << out << "\n";
      return absl::OkStatus();
    });
  }
  QEFF_ASSIGN_OR_RETURN(std::string dir,
                        engine::CompileOnnx(onnx, cp, qpc + "/qpcs"));
  std::cout << "Compiled program: " << dir << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(
      argc, argv, "compile",
      "QEfficient's cloud.compile: compile an exported ONNX.",
      [](const std::string&) { return qeff::tools::Run(); });
}
