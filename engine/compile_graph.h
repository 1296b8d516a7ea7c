// The compile side as a oneTBB flow graph (DESIGN.md "The engine's
// pattern"): many jobs (engine/job.h) → ONNX artifacts and cpu program
// containers under $QEFF_HOME, in QEfficient's layout.
//
//   admit ─► load ─► split ─► transform ─► export ─► fan-out ─► compile ─►
//   write ─► done (bytes)  (1 per   (per     (1 per       (async,    (per job)
//   (per job)  (async)    │
//     ▲      model)   export)  export)      pool) │ └─────────────────────
//     release the model's bytes when its last job is done ◄────┘
//
// - One load per distinct (model path, tokenizer path): its LoadedModel is
//   shared (immutable) by every transform/export/compile of that model and
//   dropped when the model's last job is done.
// - One transform + export per (model, transform options), feeding every
//   compile of it.
// - Admission: a byte budget in front of load. A model's bytes are
//   estimated as kLoadBytesFactor × the size of its files; models wait
//   (holding nothing loaded) until their bytes fit, and one larger than the
//   whole budget fails at once. A model whose files are missing fails there.
// - Function nodes (load, transform, compile) run up to max_concurrency
//   bodies each; blocking work (export with its file writes, program reuse
//   checks, container writes, and the compile of a device whose Compile
//   waits on an external process: hw::Device::CompileBlocks, the `aic`
//   driver's qaic-exec) runs on a small pool of its own through
//   async_nodes, never holding a oneTBB worker.
// - Artifacts that exist are reused (content keys: engine/artifacts.h); two
//   jobs that produce the same folder never write it at the same time.
// - Every body catches everything, skips failed or cancelled jobs, and
//   marks jobs it cannot serve; one job's failure never affects another.
// - Cancellation: JobState::RequestCancel (checked between stages) and
//   CancelAll (cancels the graph's task_group_context; the graph is reset
//   after the run, and the same CompileGraph can run again).
//
// Only the cpu device kinds ("cpu", "cpu:N", "cpu:N/k") have a program
// container; other devices are rejected per job.
#ifndef QEFF_ENGINE_COMPILE_GRAPH_H_
#define QEFF_ENGINE_COMPILE_GRAPH_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/job.h"

namespace qeff::engine {

// Estimated peak host bytes of a loaded model per byte of its files: the
// mapped weights plus one compiled program's packed copy.
inline constexpr int64_t kLoadBytesFactor = 2;

struct CompileGraphOptions {
  std::string qeff_home;            // artifact root (required)
  int max_concurrency = 2;          // bodies per function node (>= 1)
  int io_threads = 2;               // the blocking pool (>= 1)
  int64_t memory_budget_bytes = 0;  // admission budget; 0: unlimited
  // Called after each stage of each job (from graph or pool threads; must be
  // thread-safe). `stage` is one of kJobStages; the state says how it went.
  std::function<void(const JobSpec&, absl::string_view stage, const JobState&)>
      on_stage_done;
};

// Counts of the work one Run did (what dedupe and reuse saved).
struct CompileGraphStats {
  int64_t loads = 0;            // models::Load calls
  int64_t transforms = 0;       // TransformForDevice calls
  int64_t exports_written = 0;  // ONNX artifacts written
  int64_t exports_reused = 0;   // ONNX artifacts found
  int64_t compiles = 0;         // Device::Compile calls
  int64_t programs_written = 0;
  int64_t programs_reused = 0;
  int64_t peak_admitted_bytes = 0;  // most bytes admitted at once
  double wall_s = 0;
  bool cancelled_all = false;  // CancelAll was called during the run
};

class CompileGraph {
 public:
  explicit CompileGraph(CompileGraphOptions options);
  ~CompileGraph();
  CompileGraph(const CompileGraph&) = delete;
  CompileGraph& operator=(const CompileGraph&) = delete;

  // Runs every job to a terminal state (OK, failed or cancelled; see each
  // job's state). An error only for bad options or a graph-level failure.
  // One Run at a time.
  absl::StatusOr<CompileGraphStats> Run(const std::vector<JobMsg>& jobs);

  // From any thread during Run: cancels every job not yet finished.
  void CancelAll();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The byte estimate the admission controller uses for a model source
// (kLoadBytesFactor × its files' sizes; engine::ModelSourceFiles).
absl::StatusOr<int64_t> EstimateModelBytes(const std::string& model_path);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_COMPILE_GRAPH_H_
