#include "engine/compile_graph.h"

#include <sys/stat.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "engine/artifacts.h"
#include "engine/compile_stages.h"
#include "oneapi/tbb/flow_graph.h"

namespace qeff::engine {

absl::StatusOr<int64_t> EstimateModelBytes(const std::string& model_path) {
  QEFF_ASSIGN_OR_RETURN(std::vector<std::string> files,
                        ModelSourceFiles(model_path));
  int64_t total = 0;
  for (const std::string& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0)
      return absl::NotFoundError(absl::StrCat(f, ": cannot stat"));
    total += st.st_size;
  }
  return total * kLoadBytesFactor;
}

namespace {

namespace flow = oneapi::tbb::flow;
using compile_internal::Admission;
using compile_internal::CompileStage;
using compile_internal::DoneStage;
using compile_internal::ExportStage;
using compile_internal::ExportWork;
using compile_internal::JobWork;
using compile_internal::LoadStage;
using compile_internal::ModelWork;
using compile_internal::StageContext;
using compile_internal::TransformStage;
using compile_internal::WriteStage;
using ModelPtr = std::shared_ptr<ModelWork>;
using ExportPtr = std::shared_ptr<ExportWork>;

// A few threads for blocking work (file writes), so that it never holds a
// oneTBB worker. Tasks must not throw.
class BlockingPool {
 public:
  explicit BlockingPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~BlockingPool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Submit(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        f = std::move(queue_.front());
        queue_.pop_front();
      }
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// A message to the admission node: a model arrives, or a model's bytes are
// released (its last job is done).
struct AdmissionEvent {
  ModelPtr arrive;       // set: arrival
  int64_t release = -1;  // >= 0: release
};

}  // namespace

class CompileGraph::Impl {
 public:
  using AdmitNode =
      flow::multifunction_node<AdmissionEvent, std::tuple<ModelPtr>>;
  using SplitNode = flow::multifunction_node<ModelPtr, std::tuple<ExportPtr>>;
  using ExportNode = flow::async_node<ExportPtr, ExportPtr>;
  using FanOutNode = flow::multifunction_node<ExportPtr, std::tuple<JobWork>>;
  using CompileNode = flow::async_node<JobWork, JobWork>;
  using WriteNode = flow::async_node<JobWork, JobWork>;
  using DoneNode =
      flow::multifunction_node<JobWork, std::tuple<AdmissionEvent>>;

  explicit Impl(CompileGraphOptions o)
      : graph_(tbb_ctx_),
        admit_(
            graph_, flow::serial,
            [this](const AdmissionEvent& e, AdmitNode::output_ports_type& out) {
              std::vector<ModelPtr> go = e.arrive
                                             ? admission_.Arrive(e.arrive)
                                             : admission_.Release(e.release);
              for (ModelPtr& m : go) std::get<0>(out).try_put(m);
            }),
        load_(graph_, Concurrency(o),
              [this](ModelPtr m) {
                LoadStage{&ctx_}(*m);
                return m;
              }),
        split_(graph_, flow::unlimited,
               [](const ModelPtr& m, SplitNode::output_ports_type& out) {
                 for (const ExportPtr& e : m->exports)
                   std::get<0>(out).try_put(e);
               }),
        transform_(graph_, Concurrency(o),
                   [this](ExportPtr e) {
                     TransformStage{&ctx_}(*e);
                     return e;
                   }),
        export_(graph_, flow::unlimited,
                [this](const ExportPtr& e, ExportNode::gateway_type& gw) {
                  gw.reserve_wait();
                  pool_.Submit([this, e, &gw] {
                    ExportStage{&ctx_}(*e);
                    gw.try_put(e);
                    gw.release_wait();
                  });
                }),
        fan_out_(graph_, flow::unlimited,
                 [](const ExportPtr& e, FanOutNode::output_ports_type& out) {
                   for (JobWork& w : compile_internal::FanOut(e))
                     std::get<0>(out).try_put(w);
                 }),
        // Devices whose Compile waits on an external process
        // (Device::CompileBlocks) compile on the blocking pool; the rest on
        // this node's oneTBB workers.
        compile_(graph_, Concurrency(o),
                 [this](const JobWork& w, CompileNode::gateway_type& gw) {
                   if (CompileBlocks(w)) {
                     gw.reserve_wait();
                     pool_.Submit([this, job = w, &gw]() mutable {
                       CompileStage{&ctx_}(job);
                       gw.try_put(job);
                       gw.release_wait();
                     });
                     return;
                   }
                   JobWork job = w;
                   CompileStage{&ctx_}(job);
                   gw.try_put(job);
                 }),
        write_(graph_, flow::unlimited,
               [this](const JobWork& w, WriteNode::gateway_type& gw) {
                 gw.reserve_wait();
                 pool_.Submit([this, job = w, &gw]() mutable {
                   WriteStage{&ctx_}(job);
                   gw.try_put(job);
                   gw.release_wait();
                 });
               }),
        done_(graph_, flow::serial,
              [](JobWork w, DoneNode::output_ports_type& out) {
                const int64_t release = DoneStage()(w);
                if (release >= 0)
                  std::get<0>(out).try_put(AdmissionEvent{nullptr, release});
              }),
        pool_(std::max(1, o.io_threads)) {
    ctx_.options = std::move(o);
    // The pipeline, in the order of DESIGN.md "The data's way"; `done`
    // feeds released bytes back to admission.
    flow::make_edge(admit_, load_);
    flow::make_edge(load_, split_);
    flow::make_edge(split_, transform_);
    flow::make_edge(transform_, export_);
    flow::make_edge(export_, fan_out_);
    flow::make_edge(fan_out_, compile_);
    flow::make_edge(compile_, write_);
    flow::make_edge(write_, done_);
    flow::make_edge(done_, admit_);
  }

  absl::StatusOr<CompileGraphStats> Run(const std::vector<JobMsg>& jobs);
  void CancelAll();

 private:
  static size_t Concurrency(const CompileGraphOptions& o) {
    return static_cast<size_t>(std::max(1, o.max_concurrency));
  }

  bool CompileBlocks(const JobWork& w) const {
    auto d = ctx_.devices.find(w.job.spec->device);
    return d != ctx_.devices.end() && d->second && d->second->CompileBlocks();
  }

  // Declaration order matters: the graph outlives nothing that uses it, and
  // the pool (whose tasks touch nodes) is destroyed before the nodes.
  oneapi::tbb::task_group_context tbb_ctx_;
  flow::graph graph_;
  StageContext ctx_;
  Admission admission_;
  std::mutex run_mu_;  // guards jobs_ and cancel_all_ against CancelAll
  std::vector<JobMsg> jobs_;
  bool cancel_all_ = false;
  AdmitNode admit_;
  flow::function_node<ModelPtr, ModelPtr> load_;
  SplitNode split_;
  flow::function_node<ExportPtr, ExportPtr> transform_;
  ExportNode export_;
  FanOutNode fan_out_;
  CompileNode compile_;
  WriteNode write_;
  DoneNode done_;
  BlockingPool pool_;
};

absl::StatusOr<CompileGraphStats> CompileGraph::Impl::Run(
    const std::vector<JobMsg>& jobs) {
  if (ctx_.options.qeff_home.empty())
    return absl::InvalidArgumentError("compile graph: qeff_home is required");
  if (ctx_.options.memory_budget_bytes < 0)
    return absl::InvalidArgumentError(
        "compile graph: memory_budget_bytes must be >= 0");
  const double t0 = compile_internal::NowSeconds();
  {
    std::lock_guard<std::mutex> l(run_mu_);
    jobs_ = jobs;
    cancel_all_ = false;
  }
  // Fresh per-run state.
  ctx_.counters.loads = ctx_.counters.transforms =
      ctx_.counters.exports_written = ctx_.counters.exports_reused =
          ctx_.counters.compiles = ctx_.counters.programs_written =
              ctx_.counters.programs_reused = 0;
  ctx_.devices.clear();
  admission_ = Admission(ctx_.options.memory_budget_bytes);
  std::vector<ModelPtr> models = compile_internal::PlanModels(jobs, ctx_);

  absl::Status graph_error;
  try {
    for (const ModelPtr& m : models) admit_.try_put(AdmissionEvent{m, -1});
    graph_.wait_for_all();
  } catch (const std::exception& e) {
    graph_error = absl::InternalError(
        absl::StrCat("compile graph: exception: ", e.what()));
  } catch (...) {
    graph_error = absl::InternalError("compile graph: unknown exception");
  }
  CompileGraphStats stats;
  {
    std::lock_guard<std::mutex> l(run_mu_);
    stats.cancelled_all = cancel_all_;
    jobs_.clear();
  }
  if (graph_.is_cancelled() || !graph_error.ok()) graph_.reset();
  // Jobs whose messages the cancelled graph dropped.
  for (const JobMsg& j : jobs) {
    if (j.state->finished()) continue;
    j.state->Finish(graph_error.ok() ? absl::CancelledError(absl::StrCat(
                                           "job ", j.spec->id, ": cancelled"))
                                     : graph_error);
  }
  for (const ModelPtr& m : models) {  // drop what a cancelled run left
    m->model.reset();
    m->exports.clear();
  }
  const auto& c = ctx_.counters;
  stats.loads = c.loads;
  stats.transforms = c.transforms;
  stats.exports_written = c.exports_written;
  stats.exports_reused = c.exports_reused;
  stats.compiles = c.compiles;
  stats.programs_written = c.programs_written;
  stats.programs_reused = c.programs_reused;
  stats.peak_admitted_bytes = admission_.peak();
  stats.wall_s = compile_internal::NowSeconds() - t0;
  if (!graph_error.ok()) return graph_error;
  return stats;
}

void CompileGraph::Impl::CancelAll() {
  std::lock_guard<std::mutex> l(run_mu_);
  cancel_all_ = true;
  for (const JobMsg& j : jobs_) j.state->RequestCancel();
  graph_.cancel();
}

CompileGraph::CompileGraph(CompileGraphOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
CompileGraph::~CompileGraph() = default;

absl::StatusOr<CompileGraphStats> CompileGraph::Run(
    const std::vector<JobMsg>& jobs) {
  return impl_->Run(jobs);
}

void CompileGraph::CancelAll() { impl_->CancelAll(); }

}  // namespace qeff::engine
