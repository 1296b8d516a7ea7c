// farm: compile many (model × specializations × options) jobs at once into
// $QEFF_HOME — ONNX artifacts and cpu program containers in QEfficient's
// layout — through the compile flow graph (engine/compile_graph.h): each
// model is loaded once, each (model, transform) exported once, compiles run
// concurrently under a memory budget, and artifacts that exist are reused.
//
//   bazel run //tools:farm -- --jobs=jobs.jsonl --output_json=farm.json
//
// The job file is a JSON list of jobs or JSON lines, e.g.
//   {"model": "stories260K.gguf", "prompt_len": 32, "ctx_len": 256}
//   {"id": "s-ctx512", "model": "stories260K.gguf", "specializations":
//     [{"name": "Prefill", "symbols": {"batch_size": 1, "seq_len": 64,
//       "ctx_len": 512}}, {"name": "Decode", "symbols": {"batch_size": 1,
//       "seq_len": 1, "ctx_len": 512}}]}
// (fields: engine/job.h). Relative paths are relative to the working
// directory. Prints one row per job; exits 1 when any job did not succeed.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "engine/artifacts.h"
#include "engine/compile_graph.h"
#include "engine/job.h"
#include "tools/tool_util.h"

ABSL_FLAG(std::string, jobs, "", "job file: a JSON list of jobs or JSON lines");
ABSL_FLAG(std::string, qeff_home, "",
          "artifact root (default: $QEFF_HOME or ~/.cache/qeff_models)");
ABSL_FLAG(int32_t, max_concurrency, 2,
          "loads, transforms and compiles running at once (each)");
ABSL_FLAG(int32_t, io_threads, 2,
          "threads for blocking work (exports, container writes)");
ABSL_FLAG(int64_t, memory_budget_mb, 0,
          "host memory budget for loaded models (0: unlimited)");
ABSL_FLAG(std::string, output_json, "", "also write the results as JSON here");
ABSL_FLAG(std::string, report, "",
          "also write a report: PATH.csv (one row per job) or PATH.json (as "
          "--output_json)");

namespace qeff::tools {
namespace {

std::string StatusWord(const absl::Status& s) {
  if (s.ok()) return "ok";
  return s.code() == absl::StatusCode::kCancelled ? "cancelled" : "failed";
}

std::string Seconds(const engine::JobResult& r, const char* stage) {
  auto it = r.timings_s.find(stage);
  return it == r.timings_s.end() ? "-" : absl::StrFormat("%.3f", it->second);
}

std::string ResultJson(const engine::JobSpec& spec,
                       const engine::JobResult& r) {
  std::vector<std::string> timings;
  for (const auto& [stage, s] : r.timings_s)
    timings.push_back(absl::StrFormat("%s: %.6f", base::JsonQuote(stage), s));
  auto path = [](const std::string& p) {
    return p.empty() ? std::string("null") : base::JsonQuote(p);
  };
  return absl::StrCat(
      "{\"id\": ", base::JsonQuote(spec.id),
      ", \"model\": ", base::JsonQuote(spec.model_path),
      ", \"device\": ", base::JsonQuote(spec.device),
      ", \"status\": ", base::JsonQuote(StatusWord(r.status)), ", \"error\": ",
      r.status.ok() ? "null" : base::JsonQuote(r.status.message()),
      ", \"onnx\": ", path(r.onnx_path),
      ", \"program\": ", path(r.program_path),
      ", \"onnx_reused\": ", r.onnx_reused ? "true" : "false",
      ", \"program_reused\": ", r.program_reused ? "true" : "false",
      ", \"timings_s\": {", absl::StrJoin(timings, ", "), "}}");
}

absl::StatusOr<bool> Run() {
  const std::string jobs_path = absl::GetFlag(FLAGS_jobs);
  if (jobs_path.empty())
    return absl::InvalidArgumentError("--jobs is required");
  if (absl::GetFlag(FLAGS_max_concurrency) < 1)
    return absl::InvalidArgumentError("--max_concurrency must be >= 1");
  if (absl::GetFlag(FLAGS_io_threads) < 1)
    return absl::InvalidArgumentError("--io_threads must be >= 1");
  if (absl::GetFlag(FLAGS_memory_budget_mb) < 0)
    return absl::InvalidArgumentError("--memory_budget_mb must be >= 0");
  std::ifstream in(UserPath(jobs_path));
  if (!in) return absl::NotFoundError(absl::StrCat(jobs_path, ": cannot open"));
  std::stringstream text;
  text << in.rdbuf();
  QEFF_ASSIGN_OR_RETURN(std::vector<engine::JobSpec> specs,
                        engine::ParseJobs(text.str(), jobs_path));
  for (engine::JobSpec& s : specs) {
    s.model_path = UserPath(s.model_path);
    if (!s.tokenizer_path.empty())
      s.tokenizer_path = UserPath(s.tokenizer_path);
  }
  std::vector<engine::JobMsg> jobs = engine::MakeJobs(std::move(specs));

  engine::CompileGraphOptions o;
  o.qeff_home = absl::GetFlag(FLAGS_qeff_home).empty()
                    ? engine::DefaultQeffHome()
                    : UserPath(absl::GetFlag(FLAGS_qeff_home));
  o.max_concurrency = absl::GetFlag(FLAGS_max_concurrency);
  o.io_threads = absl::GetFlag(FLAGS_io_threads);
  o.memory_budget_bytes = absl::GetFlag(FLAGS_memory_budget_mb) * 1024 * 1024;
  // A live progress line on a terminal: jobs through, and the latest stage.
  std::mutex progress_mu;
  std::set<std::string> through;
  const int64_t total = static_cast<int64_t>(jobs.size());
  if (::isatty(1)) {
    o.on_stage_done = [&](const engine::JobSpec& spec, absl::string_view stage,
                          const engine::JobState& state) {
      std::lock_guard<std::mutex> l(progress_mu);
      if (state.finished()) through.insert(spec.id);
      std::cout << absl::StrFormat("\r\x1b[K[%d/%d] %s: %s", through.size(),
                                   total, spec.id, stage)
                << std::flush;
    };
  }
  engine::CompileGraph graph(o);
  QEFF_ASSIGN_OR_RETURN(engine::CompileGraphStats st, graph.Run(jobs));

  if (::isatty(1)) std::cout << "\r\x1b[K";
  bool all_ok = true;
  std::cout << absl::StrFormat("%-16s %-9s %8s %8s %9s %8s %8s %8s  %s\n",
                               "job", "status", "admit_s", "load_s", "transf_s",
                               "export_s", "compile_s", "write_s", "program");
  std::vector<std::string> rows;
  for (const engine::JobMsg& j : jobs) {
    engine::JobResult r = j.state->Snapshot();
    all_ok = all_ok && r.status.ok();
    std::string where =
        r.status.ok()
            ? absl::StrCat(r.program_path, r.program_reused ? " (reused)" : "")
            : std::string(r.status.message());
    std::cout << absl::StrFormat(
        "%-16s %-9s %8s %8s %9s %8s %8s %8s  %s\n", j.spec->id,
        StatusWord(r.status), Seconds(r, "admit"), Seconds(r, "load"),
        Seconds(r, "transform"), Seconds(r, "export"), Seconds(r, "compile"),
        Seconds(r, "write"), where);
    rows.push_back(ResultJson(*j.spec, r));
  }
  std::cout << absl::StrFormat(
      "%d jobs in %.3f s: %d loads, %d transforms, ONNX %d written / %d "
      "reused, %d compiles, "
      "programs %d written / %d reused, peak admitted %.1f MB\n",
      jobs.size(), st.wall_s, st.loads, st.transforms, st.exports_written,
      st.exports_reused, st.compiles, st.programs_written, st.programs_reused,
      st.peak_admitted_bytes / 1048576.0);

  const std::string report = UserPath(absl::GetFlag(FLAGS_report));
  if (!report.empty() && absl::EndsWith(report, ".csv")) {
    std::string csv =
        "id,model,device,status,error,onnx,program,onnx_reused,program_reused,"
        "load_s,export_s,compile_s,write_s\n";
    auto field = [](absl::string_view v) {
      return absl::StrCat("\"", absl::StrReplaceAll(v, {{"\"", "\"\""}}), "\"");
    };
    for (const engine::JobMsg& j : jobs) {
      engine::JobResult r = j.state->Snapshot();
      absl::StrAppend(&csv, field(j.spec->id), ",", field(j.spec->model_path),
                      ",", field(j.spec->device), ",", StatusWord(r.status),
                      ",", field(r.status.ok() ? "" : r.status.message()), ",",
                      field(r.onnx_path), ",", field(r.program_path), ",",
                      r.onnx_reused ? "true" : "false", ",",
                      r.program_reused ? "true" : "false", ",",
                      Seconds(r, "load"), ",", Seconds(r, "export"), ",",
                      Seconds(r, "compile"), ",", Seconds(r, "write"), "\n");
    }
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(report, csv));
  } else if (!report.empty() && !absl::EndsWith(report, ".json")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--report ", report, ": use a .csv or .json file"));
  }
  std::vector<std::string> json_paths;
  if (!absl::GetFlag(FLAGS_output_json).empty())
    json_paths.push_back(UserPath(absl::GetFlag(FLAGS_output_json)));
  if (absl::EndsWith(report, ".json")) json_paths.push_back(report);
  for (const std::string& json_path : json_paths) {
    std::string json = absl::StrCat(
        "{\"qeff_home\": ", base::JsonQuote(o.qeff_home),
        absl::StrFormat(", \"stats\": {\"wall_s\": %.6f, \"loads\": %d, "
                        "\"transforms\": %d, "
                        "\"exports_written\": %d, \"exports_reused\": %d, "
                        "\"compiles\": %d, "
                        "\"programs_written\": %d, \"programs_reused\": %d, "
                        "\"peak_admitted_bytes\": %d}",
                        st.wall_s, st.loads, st.transforms, st.exports_written,
                        st.exports_reused, st.compiles, st.programs_written,
                        st.programs_reused, st.peak_admitted_bytes),
        ", \"jobs\": [", absl::StrJoin(rows, ",\n  "), "]}\n");
    QEFF_RETURN_IF_ERROR(base::WriteFileAtomically(json_path, json));
  }
  return all_ok;
}

}  // namespace
}  // namespace qeff::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Compile many model x specialization jobs into $QEFF_HOME (see "
      "tools/farm.cc).");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "farm: unexpected argument '" << rest[1] << "'\n";
    return 1;
  }
  auto ok = qeff::tools::Run();
  if (!ok.ok()) {
    std::cerr << "farm: " << ok.status().message() << "\n";
    return 1;
  }
  return *ok ? 0 : 1;
}
