// export: QEfficient's `cloud.export` — load a model, apply transform_lm and
// export the ONNX (QEfficient's folder and file names, reused when it
// exists). Prints the ONNX path.
//
//   bazel run //tools:export -- --model_name gpt2 [--full_batch_size 4]
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "engine/artifacts.h"
#include "engine/qeff_auto_model.h"
#include "tools/cli.h"
#include "tools/model_flags.h"
#include "tools/tool_util.h"

ABSL_FLAG(int64_t, full_batch_size, 0,
          "export for continuous batching (batch_index input) when > 0");
ABSL_FLAG(bool, mxint8_kv_cache, false,
          "accepted for QEfficient's command line: the cache precision is "
          "chosen at compile (--mxint8); the ONNX does not change");
ABSL_FLAG(std::string, export_dir, "",
          "QEfficient's export_dir: the folder is <export_dir>-<hash16>");
ABSL_FLAG(std::string, output_dir, "",
          "write the artifact's files into exactly this folder (for build "
          "rules: tools/defs.bzl qeff_export); instead of $QEFF_HOME");

namespace qeff::tools {
namespace {

absl::Status Run(const std::string& argv0) {
  QEFF_ASSIGN_OR_RETURN(const std::string path, ModelPathFromFlags(argv0));
  if (absl::GetFlag(FLAGS_full_batch_size) < 0)
    return absl::InvalidArgumentError("--full_batch_size must be >= 0");
  engine::FromPretrainedOptions fo = ModelOptionsFromFlags();
  fo.continuous_batching = absl::GetFlag(FLAGS_full_batch_size) > 0;
  const std::string out = UserPath(absl::GetFlag(FLAGS_output_dir));
  if (!out.empty()) {
    if (!absl::GetFlag(FLAGS_export_dir).empty())
      return absl::InvalidArgumentError(
          "--output_dir and --export_dir are exclusive");
    // Everything (the digest cache included) happens in a scratch folder
    // beside it, nothing under $HOME (hermetic build actions); the files
    // then move under the exact name a build rule declared.
    const std::string scratch = out + ".export";
    return InScratchFolder(scratch, [&]() -> absl::Status {
      fo.qeff_home = scratch + "/home";
      QEFF_ASSIGN_OR_RETURN(
          auto model,
          engine::QEFFAutoModelForCausalLM::FromPretrained(path, fo));
      QEFF_ASSIGN_OR_RETURN(std::string onnx,
                            model->Export(scratch + "/model"));
      QEFF_RETURN_IF_ERROR(PublishExactly(engine::DirName(onnx), out));
      std::cout << "Exported ONNX: " << out << "/"
                << onnx.substr(onnx.find_last_of('/') + 1) << "\n";
      return absl::OkStatus();
    });
  }
  QEFF_ASSIGN_OR_RETURN(
      auto model, engine::QEFFAutoModelForCausalLM::FromPretrained(path, fo));
  QEFF_ASSIGN_OR_RETURN(
      std::string onnx,
      model->Export(UserPath(absl::GetFlag(FLAGS_export_dir))));
  std::cout << (model->onnx_reused() ? "Reusing ONNX: " : "Exported ONNX: ")
            << onnx << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  return qeff::tools::RunTool(argc, argv, "export",
                              "QEfficient's cloud.export: export the ONNX.",
                              qeff::tools::Run);
}
