// The compile graph's stage bodies (engine/compile_graph.h), as named
// functors that need no graph: each takes a work item, does its stage for
// the item's live jobs, records failures, timings and progress in the jobs'
// states, and never throws. The graph wiring is in compile_graph.cc.
//
// Work items: one ModelWork per distinct (model path, tokenizer path), one
// ExportWork per (model, transform options), one JobWork per job. Items are
// handed from stage to stage by the graph, so a stage sees everything the
// stages before it wrote.
#ifndef QEFF_ENGINE_COMPILE_STAGES_H_
#define QEFF_ENGINE_COMPILE_STAGES_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/json.h"
#include "engine/compile_graph.h"
#include "engine/job.h"
#include "hw/driver.h"
#include "ir/graph.h"
#include "models/model_loader.h"

namespace qeff::engine::compile_internal {

struct Counters {
  std::atomic<int64_t> loads{0}, transforms{0}, exports_written{0},
      exports_reused{0}, compiles{0}, programs_written{0}, programs_reused{0};
};

// One mutex per artifact folder: two jobs that would write the same folder
// (the same content reached twice) take turns, and the second reuses it.
class FolderLocks {
 public:
  std::shared_ptr<std::mutex> For(const std::string& key);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;
};

// What every stage shares. Devices are opened once per device spec while
// planning (a cpu Device is stateless; Compile may run concurrently).
struct StageContext {
  CompileGraphOptions options;
  Counters counters;
  FolderLocks locks;
  std::map<std::string, std::shared_ptr<hw::Device>> devices;  // by spec
};

struct ExportWork;

struct ModelWork {
  std::string path;
  std::string tokenizer_path;
  int64_t bytes = 0;           // the admission estimate
  int64_t admitted_bytes = 0;  // what admission counted (0: rejected)
  absl::Status plan_error;     // e.g. missing files: every job fails
  std::vector<JobMsg> jobs;
  std::vector<std::shared_ptr<ExportWork>> exports;
  std::atomic<int64_t> remaining{0};  // jobs not yet through `done`
  double queued_at_s = 0;             // for the "admit" timing
  std::shared_ptr<const models::LoadedModel> model;  // set by LoadStage
};

// Back-references are plain pointers (a ModelWork owns its exports); the
// graph's caller keeps every ModelWork alive until the run is over.
struct ExportWork {
  ModelWork* model = nullptr;
  passes::TransformLMOptions transform;
  std::vector<JobMsg> jobs;
  std::shared_ptr<const ir::Graph> transformed;  // set by TransformStage
  std::string onnx_path, hash16;                 // set by ExportStage
  std::string params_json;                       // set by ExportStage
  std::vector<std::string> program_dirs;         // per job, by ExportStage
  std::vector<base::JsonValue> compile_params;   // per job, by ExportStage
};

struct JobWork {
  ModelWork* model = nullptr;
  std::shared_ptr<ExportWork> exp;
  JobMsg job;
  std::string program_dir;
  base::JsonValue compile_params;              // hashed into program_dir
  std::shared_ptr<const hw::Program> program;  // set by CompileStage
};

// Groups jobs into models and exports, estimates each model's bytes and
// opens each device spec once. Jobs that cannot run (a device without a
// program container, an unknown device) fail here; models whose files are
// missing get plan_error.
std::vector<std::shared_ptr<ModelWork>> PlanModels(
    const std::vector<JobMsg>& jobs, StageContext& ctx);

// The byte budget in front of load (not thread-safe: the graph runs it in a
// serial node). Models are admitted in arrival order while their bytes fit
// (or when nothing is admitted); a model larger than the whole budget, or
// with a plan error, fails its jobs and passes at once (admitted_bytes 0).
class Admission {
 public:
  explicit Admission(int64_t budget_bytes = 0) : budget_(budget_bytes) {}
  // The models to hand to load now.
  std::vector<std::shared_ptr<ModelWork>> Arrive(std::shared_ptr<ModelWork> m);
  std::vector<std::shared_ptr<ModelWork>> Release(int64_t bytes);
  int64_t in_use() const { return in_use_; }
  int64_t peak() const { return peak_; }
  size_t waiting() const { return queue_.size(); }

 private:
  std::vector<std::shared_ptr<ModelWork>> Drain();
  int64_t budget_;
  int64_t in_use_ = 0, peak_ = 0;
  std::deque<std::shared_ptr<ModelWork>> queue_;
};

class LoadStage {
 public:
  explicit LoadStage(StageContext* ctx) : ctx_(ctx) {}
  void operator()(ModelWork& m) const;

 private:
  StageContext* ctx_;
};

class TransformStage {
 public:
  explicit TransformStage(StageContext* ctx) : ctx_(ctx) {}
  void operator()(ExportWork& e) const;

 private:
  StageContext* ctx_;
};

// Blocking: exports the ONNX (or finds it), then finds each job's program
// folder and reuses the programs that exist.
class ExportStage {
 public:
  explicit ExportStage(StageContext* ctx) : ctx_(ctx) {}
  void operator()(ExportWork& e) const;

 private:
  StageContext* ctx_;
};

// One JobWork per job of an export.
std::vector<JobWork> FanOut(const std::shared_ptr<ExportWork>& e);

class CompileStage {
 public:
  explicit CompileStage(StageContext* ctx) : ctx_(ctx) {}
  void operator()(JobWork& j) const;

 private:
  StageContext* ctx_;
};

// Blocking: writes the program container (or finds that another job did).
class WriteStage {
 public:
  explicit WriteStage(StageContext* ctx) : ctx_(ctx) {}
  void operator()(JobWork& j) const;

 private:
  StageContext* ctx_;
};

// Serial: a job is through. Returns the bytes to release when it was its
// model's last job (the model and its transformed graphs are dropped), else
// -1.
class DoneStage {
 public:
  int64_t operator()(JobWork& j) const;
};

// Seconds on a monotonic clock.
double NowSeconds();

}  // namespace qeff::engine::compile_internal

#endif  // QEFF_ENGINE_COMPILE_STAGES_H_
