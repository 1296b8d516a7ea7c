// opt: runs passes or pipelines by name on a graph (IR text or ONNX) and
// prints the result — what `mlir-opt` / `onnxsim` are to their users.
//
//   bazel run //tools:opt -- --input=model.onnx \
//       --passes=transform_lm_pipeline --output=out.onnx
//   bazel run //tools:opt -- --input=g.txt --passes=custom_rms_norm \
//       --dump_regex='custom_.*' --timings
// With no --output the resulting graph text goes to stdout.
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "ir/op_schema.h"
#include "ir/text_format.h"
#include "passes/pass_pipeline.h"
#include "passes/registry.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, input, "",
          "graph to read: a .onnx file or IR text (any other name)");
ABSL_FLAG(std::string, passes, "",
          "comma-separated passes or pipelines to run in order (see --list)");
ABSL_FLAG(
    std::string, output, "",
    "write the result here: .onnx (ONNX export) or IR text; empty: stdout");
ABSL_FLAG(std::string, dump_regex, "",
          "dump the graph text around passes matching this");
ABSL_FLAG(std::string, skip, "", "comma-separated pass names to skip");
ABSL_FLAG(bool, timings, false, "print each pass's time to stderr");
ABSL_FLAG(bool, list, false, "list the known passes and pipelines");
ABSL_FLAG(bool, elide, false, "print large tensors as `...` (not parseable)");

namespace qeff::tools {
namespace {

absl::StatusOr<ir::Graph> ReadGraph(const std::string& path) {
  if (absl::EndsWith(path, ".onnx")) return ir::ImportOnnx(path);
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << f.rdbuf();
  auto g = ir::ParseGraph(ss.str());
  if (!g.ok())
    return absl::Status(g.status().code(),
                        absl::StrCat(path, ":", g.status().message()));
  return g;
}

absl::Status Run() {
  if (absl::GetFlag(FLAGS_list)) {
    std::cout << absl::StrJoin(passes::RegisteredPassNames(), "\n") << "\n";
    return absl::OkStatus();
  }
  if (absl::GetFlag(FLAGS_input).empty())
    return absl::InvalidArgumentError("--input is required");
  QEFF_ASSIGN_OR_RETURN(ir::Graph g,
                        ReadGraph(UserPath(absl::GetFlag(FLAGS_input))));
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  passes::PipelineOptions po;
  po.dump_regex = absl::GetFlag(FLAGS_dump_regex);
  for (absl::string_view s :
       absl::StrSplit(absl::GetFlag(FLAGS_skip), ',', absl::SkipEmpty()))
    po.skip.insert(std::string(s));
  passes::PassPipeline pipeline(po);
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_passes), ',', absl::SkipEmpty())) {
    QEFF_RETURN_IF_ERROR(passes::AddPassesByName(name, pipeline));
  }
  auto changed = pipeline.Run(g);
  if (!changed.ok()) return changed.status();
  if (absl::GetFlag(FLAGS_timings)) {
    for (const auto& t : pipeline.timings()) {
      std::cerr << absl::StrFormat(
          "%-24s %s %.4f s\n", t.pass,
          t.skipped ? "skipped  " : (t.changed ? "changed  " : "unchanged"),
          t.seconds);
    }
  }
  const std::string out = absl::GetFlag(FLAGS_output);
  if (absl::EndsWith(out, ".onnx")) return ir::ExportOnnx(g, UserPath(out));
  ir::PrintOptions print;
  print.elide_large_tensors = absl::GetFlag(FLAGS_elide);
  std::string text = ir::PrintGraph(g, print);
  if (out.empty()) {
    std::cout << text;
    return absl::OkStatus();
  }
  return base::WriteFileAtomically(UserPath(out), text);
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Run qeff graph passes on an IR text or ONNX file.");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = qeff::tools::Run();
  if (!s.ok()) {
    std::cerr << "opt: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
