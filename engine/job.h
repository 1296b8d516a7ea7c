// Compile jobs: what a farm is asked to build and what became of it.
//
// A job is one program: (model, optional tokenizer, specializations, compile
// options, transform options, device). Jobs travel through the compile graph
// (engine/compile_graph.h) as `JobMsg{spec, state}`: the spec is immutable
// and shared; the state is written by the stages (under its own mutex) and
// read by the caller after the run. A job's cancel flag may be set from any
// thread at any time; stages check it between stages.
//
// ParseJobs reads a farm's job file: a JSON list of job objects or JSON
// lines (one object per line; blank lines skipped). Fields:
//   "model" (required), "id", "tokenizer", "device" ("cpu", "cpu:N",
//   "cpu:N/k", "sim:ai100-standard|pro|ultra", "aic"), "specializations"
//   ([{"name", "symbols": {sym: int or "int"}}]) or the shorthand "prompt_len"
//   (32), "ctx_len" (128), "batch_size" (1) → Prefill + Decode; "num_cores",
//   "num_devices" (SoCs for sim:ai100-* devices; host devices reject > 1),
//   "mxfp6_matmul", "mxint8_kv_cache", "weight_format" (q8_0 | q4_0 | mxfp6),
//   "weight_dtype" (f32 | f16 | bf16), "all_logits" (an all-positions-logits
//   export), "continuous_batching" with "full_batch_size".
// Any other field is an error naming it, the file and the job.
#ifndef QEFF_ENGINE_JOB_H_
#define QEFF_ENGINE_JOB_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "hw/driver.h"
#include "hw/specialization.h"
#include "passes/transform_lm.h"

namespace qeff::engine {

struct JobSpec {
  std::string id;              // a label for reports ("job3" when not given)
  std::string model_path;      // .gguf, llama2.c .bin or an HF folder
  std::string tokenizer_path;  // optional (models::LoadOptions)
  std::vector<hw::Specialization> specializations;
  hw::CompileOptions compile;
  passes::TransformLMOptions transform;
  std::string device = "cpu";  // hw::OpenDevice spec
};

// The stages a job passes, in order (names used in timings and progress).
inline constexpr const char* kJobStages[] = {"admit",  "load",    "transform",
                                             "export", "compile", "write"};

// What became of a job (a snapshot of its JobState).
struct JobResult {
  std::string id;
  absl::Status status;       // Cancelled for cancelled jobs
  std::string onnx_path;     // empty when the job failed before export
  std::string program_path;  // the qpc-<hash16>/ folder
  bool onnx_reused = false;
  bool program_reused = false;
  std::map<std::string, double> timings_s;  // stage → seconds (shared stages
                                            // count for each of their jobs)
};

// A job's mutable state. Thread-safe.
class JobState {
 public:
  explicit JobState(std::string id) { result_.id = std::move(id); }

  // Asks the job to stop; stages check between stages.
  void RequestCancel() { cancel_.store(true, std::memory_order_relaxed); }
  bool cancel_requested() const {
    return cancel_.load(std::memory_order_relaxed);
  }

  // True once the job failed, was cancelled or finished.
  bool finished() const;
  // True when the job may still do work: not finished, not cancel-requested.
  bool live() const { return !cancel_requested() && !finished(); }
  // The first terminal status wins; later calls are ignored.
  void Finish(absl::Status status);
  void Fail(absl::Status status) { Finish(std::move(status)); }
  // Marks a cancel-requested, unfinished job Cancelled naming `stage`.
  // Returns true when the job is not live (the caller should skip it).
  bool SkipIfNotLive(absl::string_view stage);

  void SetOnnx(const std::string& path, bool reused);
  void SetProgram(const std::string& path, bool reused);
  void AddTiming(absl::string_view stage, double seconds);

  JobResult Snapshot() const;

 private:
  std::atomic<bool> cancel_{false};
  mutable absl::Mutex mu_;
  bool finished_ = false;  // guarded by mu_
  JobResult result_;       // guarded by mu_ (status OK until finished)
};

struct JobMsg {
  std::shared_ptr<const JobSpec> spec;
  std::shared_ptr<JobState> state;
};

// Makes JobMsgs with fresh states.
std::vector<JobMsg> MakeJobs(std::vector<JobSpec> specs);

// Parses a job file's text (see the file comment); `source` names the file
// in errors. Relative model/tokenizer paths are kept as written.
absl::StatusOr<std::vector<JobSpec>> ParseJobs(absl::string_view text,
                                               absl::string_view source);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_JOB_H_
