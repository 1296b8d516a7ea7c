#include "engine/compile_stages.h"

#include <sys/stat.h>

#include <chrono>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/params_hash.h"
#include "engine/artifacts.h"
#include "engine/lm_pipeline.h"
#include "engine/versions.h"
#include "hw/device_registry.h"
#include "passes/export.h"

namespace qeff::engine::compile_internal {
namespace {

// The path a model is known by: symlinks resolved, so two spellings of one
// file share one load.
std::string CanonicalPath(const std::string& p) {
  absl::StatusOr<std::string> real = base::RealPath(p);
  return real.ok() ? *real : p;
}

std::string Mb(int64_t bytes) {
  return absl::StrFormat("%.1f MB", bytes / 1048576.0);
}

// Reports a finished stage of a job to the progress callback.
void Report(const StageContext& ctx, const JobMsg& j, absl::string_view stage) {
  if (ctx.options.on_stage_done)
    ctx.options.on_stage_done(*j.spec, stage, *j.state);
}

// Marks not-live jobs (cancel-requested ones become Cancelled); returns the
// live ones.
std::vector<JobMsg> LiveJobs(const std::vector<JobMsg>& jobs,
                             absl::string_view stage) {
  std::vector<JobMsg> live;
  for (const JobMsg& j : jobs)
    if (!j.state->SkipIfNotLive(stage)) live.push_back(j);
  return live;
}

void FailAll(const std::vector<JobMsg>& jobs, const absl::Status& s) {
  for (const JobMsg& j : jobs) j.state->Fail(s);
}

// Runs `body` (returning a Status), turning exceptions into errors.
template <typename F>
absl::Status Guarded(absl::string_view stage, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(stage, ": exception: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(stage, ": unknown exception"));
  }
}

absl::Status Prefixed(absl::string_view what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

}  // namespace

double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<std::mutex> FolderLocks::For(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto& m = locks_[key];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

std::vector<std::shared_ptr<ModelWork>> PlanModels(
    const std::vector<JobMsg>& jobs, StageContext& ctx) {
  std::vector<std::shared_ptr<ModelWork>> models;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ModelWork>>
      by_key;
  for (const JobMsg& j : jobs) {
    const JobSpec& s = *j.spec;
    // The device: opened once per spec; every device saves its programs.
    auto dev = ctx.devices.find(s.device);
    absl::Status open_error;
    if (dev == ctx.devices.end()) {
      auto opened = hw::OpenDevice(s.device);
      std::shared_ptr<hw::Device> d;
      if (opened.ok())
        d = std::move(*opened);
      else
        open_error = opened.status();
      dev = ctx.devices.emplace(s.device, d).first;
    }
    if (!dev->second) {
      j.state->Fail(absl::InvalidArgumentError(absl::StrCat(
          "job ", s.id, ": ",
          open_error.ok() ? absl::StrCat("unknown device '", s.device, "'")
                          : std::string(open_error.message()))));
    }
    const std::string path = CanonicalPath(s.model_path);
    const std::string tok =
        s.tokenizer_path.empty() ? "" : CanonicalPath(s.tokenizer_path);
    auto& m = by_key[{path, tok}];
    if (!m) {
      m = std::make_shared<ModelWork>();
      m->path = path;
      m->tokenizer_path = tok;
      auto bytes = EstimateModelBytes(path);
      if (bytes.ok()) {
        m->bytes = *bytes;
      } else {
        m->plan_error = bytes.status();  // it names the file
      }
      models.push_back(m);
    }
    m->jobs.push_back(j);
    std::shared_ptr<ExportWork> e;
    for (auto& x : m->exports)
      if (x->transform == s.transform) e = x;
    if (!e) {
      e = std::make_shared<ExportWork>();
      e->model = m.get();
      e->transform = s.transform;
      m->exports.push_back(e);
    }
    e->jobs.push_back(j);
  }
  for (auto& m : models) m->remaining = static_cast<int64_t>(m->jobs.size());
  return models;
}

std::vector<std::shared_ptr<ModelWork>> Admission::Arrive(
    std::shared_ptr<ModelWork> m) {
  m->queued_at_s = NowSeconds();
  absl::Status reject = m->plan_error;
  if (reject.ok() && budget_ > 0 && m->bytes > budget_) {
    reject = absl::ResourceExhaustedError(absl::StrCat(
        "model ", m->path, " needs about ", Mb(m->bytes), " (",
        kLoadBytesFactor,
        " x its files), more than the whole memory budget of ", Mb(budget_)));
  }
  if (!reject.ok()) {
    FailAll(m->jobs, reject);
    m->admitted_bytes = 0;
    return {std::move(m)};
  }
  queue_.push_back(std::move(m));
  return Drain();
}

std::vector<std::shared_ptr<ModelWork>> Admission::Release(int64_t bytes) {
  in_use_ -= bytes;
  return Drain();
}

std::vector<std::shared_ptr<ModelWork>> Admission::Drain() {
  std::vector<std::shared_ptr<ModelWork>> out;
  while (!queue_.empty()) {
    std::shared_ptr<ModelWork>& m = queue_.front();
    // Nothing live: pass through without taking bytes.
    bool any_live = false;
    for (const JobMsg& j : m->jobs) any_live = any_live || j.state->live();
    if (any_live) {
      if (budget_ > 0 && in_use_ > 0 && in_use_ + m->bytes > budget_) break;
      m->admitted_bytes = m->bytes;
      in_use_ += m->bytes;
      peak_ = std::max(peak_, in_use_);
    }
    const double waited = NowSeconds() - m->queued_at_s;
    for (const JobMsg& j : m->jobs) j.state->AddTiming("admit", waited);
    out.push_back(std::move(m));
    queue_.pop_front();
  }
  return out;
}

void LoadStage::operator()(ModelWork& m) const {
  std::vector<JobMsg> live = LiveJobs(m.jobs, "load");
  if (live.empty()) return;
  const double t0 = NowSeconds();
  absl::Status s = Guarded("load", [&]() -> absl::Status {
    models::LoadOptions lo;
    lo.tokenizer_path = m.tokenizer_path;
    auto loaded = models::Load(m.path, lo);
    if (!loaded.ok()) return loaded.status();
    ctx_->counters.loads++;
    m.model = std::make_shared<const models::LoadedModel>(*std::move(loaded));
    return absl::OkStatus();
  });
  const double dt = NowSeconds() - t0;
  if (!s.ok()) FailAll(live, Prefixed("load", s));
  for (const JobMsg& j : live) {
    j.state->AddTiming("load", dt);
    Report(*ctx_, j, "load");
  }
}

void TransformStage::operator()(ExportWork& e) const {
  std::vector<JobMsg> live = LiveJobs(e.jobs, "transform");
  if (live.empty() || !e.model->model) return;
  const double t0 = NowSeconds();
  absl::Status s = Guarded("transform", [&]() -> absl::Status {
    auto g = TransformForDevice(e.model->model->eager, e.transform);
    if (!g.ok()) return g.status();
    ctx_->counters.transforms++;
    e.transformed = std::make_shared<const ir::Graph>(*std::move(g));
    return absl::OkStatus();
  });
  const double dt = NowSeconds() - t0;
  if (!s.ok())
    FailAll(live, Prefixed(absl::StrCat("transform_lm of ", e.model->path), s));
  for (const JobMsg& j : live) {
    j.state->AddTiming("transform", dt);
    Report(*ctx_, j, "transform");
  }
}

void ExportStage::operator()(ExportWork& e) const {
  e.program_dirs.assign(e.jobs.size(), "");
  std::vector<JobMsg> live = LiveJobs(e.jobs, "export");
  if (live.empty() || !e.transformed) return;
  const double t0 = NowSeconds();
  const models::LoadedModel& model = *e.model->model;
  bool reused = false;
  absl::Status s = Guarded("export", [&]() -> absl::Status {
    passes::ExportArtifactOptions eo;
    eo.qeff_home = ctx_->options.qeff_home;
    eo.architecture = model.architecture;
    eo.model_class = model.architecture;
    auto params = ExportParams(eo.qeff_home, model.source, model.architecture,
                               e.transform);
    if (!params.ok()) return params.status();
    eo.params = *std::move(params);
    // Same params, same folder: one writer at a time.
    auto lock =
        ctx_->locks.For(absl::StrCat("export:", base::ToHashable(eo.params)));
    std::lock_guard<std::mutex> l(*lock);
    auto art = passes::ExportArtifact(*e.transformed, eo);
    if (!art.ok()) return art.status();
    (art->reused ? ctx_->counters.exports_reused
                 : ctx_->counters.exports_written)++;
    e.onnx_path = art->onnx_path;
    e.hash16 = art->hash16;
    e.params_json = base::ToHashable(art->params);
    reused = art->reused;
    return absl::OkStatus();
  });
  const double dt = NowSeconds() - t0;
  if (!s.ok())
    FailAll(live, Prefixed(absl::StrCat("export of ", e.model->path), s));
  for (size_t i = 0; i < e.jobs.size(); ++i) {
    const JobMsg& j = e.jobs[i];
    if (j.state->finished()) continue;
    j.state->AddTiming("export", dt);
    j.state->SetOnnx(e.onnx_path, reused);
    const JobSpec& spec = *j.spec;
    hw::Device& device = *ctx_->devices.at(spec.device);
    const base::JsonValue cp =
        CompileHashParams(e.hash16, spec.specializations, device, spec.compile);
    const std::string dir = ProgramDir(DirName(e.onnx_path), cp);
    e.program_dirs[i] = dir;
    e.compile_params.push_back(cp);
    if (base::PublishedDirectoryExists(
            dir)) {  // reuse a program that exists and loads
      absl::Status r = Guarded("program check", [&]() -> absl::Status {
        return LoadProgramDir(device, dir).status();
      });
      if (r.ok()) {
        ctx_->counters.programs_reused++;
        j.state->SetProgram(dir, /*reused=*/true);
        j.state->Finish(absl::OkStatus());
      } else {
        j.state->Fail(Prefixed(absl::StrCat("job ", spec.id), r));
      }
    }
    Report(*ctx_, j, "export");
  }
}

std::vector<JobWork> FanOut(const std::shared_ptr<ExportWork>& e) {
  std::vector<JobWork> out;
  for (size_t i = 0; i < e->jobs.size(); ++i) {
    JobWork w;
    w.model = e->model;
    w.exp = e;
    w.job = e->jobs[i];
    if (i < e->program_dirs.size()) w.program_dir = e->program_dirs[i];
    if (i < e->compile_params.size()) w.compile_params = e->compile_params[i];
    out.push_back(std::move(w));
  }
  return out;
}

void CompileStage::operator()(JobWork& w) const {
  if (w.job.state->SkipIfNotLive("compile")) return;
  const JobSpec& spec = *w.job.spec;
  if (!w.exp->transformed || w.program_dir.empty()) {  // a bug, not bad input
    w.job.state->Fail(absl::InternalError(
        absl::StrCat("job ", spec.id, ": nothing to compile")));
    return;
  }
  const double t0 = NowSeconds();
  absl::Status s = Guarded("compile", [&]() -> absl::Status {
    auto p =
        ctx_->devices.at(spec.device)
            ->Compile(*w.exp->transformed, spec.specializations, spec.compile);
    if (!p.ok()) return p.status();
    ctx_->counters.compiles++;
    w.program = *std::move(p);
    return absl::OkStatus();
  });
  w.job.state->AddTiming("compile", NowSeconds() - t0);
  if (!s.ok())
    w.job.state->Fail(Prefixed(
        absl::StrCat("job ", spec.id, ": compile for ", spec.device), s));
  Report(*ctx_, w.job, "compile");
}

void WriteStage::operator()(JobWork& w) const {
  std::shared_ptr<const hw::Program> program = std::move(w.program);
  if (w.job.state->SkipIfNotLive("write")) return;
  const JobSpec& spec = *w.job.spec;
  const double t0 = NowSeconds();
  bool reused = false;
  absl::Status s = Guarded("write", [&]() -> absl::Status {
    auto lock = ctx_->locks.For(w.program_dir);
    std::lock_guard<std::mutex> l(*lock);
    hw::Device& device = *ctx_->devices.at(spec.device);
    if (base::PublishedDirectoryExists(
            w.program_dir)) {  // an identical job wrote it first
      reused = true;
      return LoadProgramDir(device, w.program_dir).status();
    }
    auto published =
        SaveProgramDir(device, *program, w.program_dir, w.compile_params,
                       ProgramProvenanceJson(w.exp->params_json));
    if (!published.ok()) return published.status();
    reused = !*published;
    return absl::OkStatus();
  });
  w.job.state->AddTiming("write", NowSeconds() - t0);
  if (!s.ok()) {
    w.job.state->Fail(
        Prefixed(absl::StrCat("job ", spec.id, ": ", w.program_dir), s));
  } else {
    (reused ? ctx_->counters.programs_reused
            : ctx_->counters.programs_written)++;
    w.job.state->SetProgram(w.program_dir, reused);
    w.job.state->Finish(absl::OkStatus());
  }
  Report(*ctx_, w.job, "write");
}

int64_t DoneStage::operator()(JobWork& w) const {
  w.job.state->SkipIfNotLive("the end");
  if (!w.job.state
           ->finished())  // every path finishes its jobs; a bug otherwise
    w.job.state->Fail(absl::InternalError(
        absl::StrCat("job ", w.job.spec->id, ": unfinished")));
  w.program.reset();
  if (--w.model->remaining > 0) return -1;
  // The model's last job: drop the weights and the transformed graphs.
  w.model->model.reset();
  for (auto& e : w.model->exports) e->transformed.reset();
  return w.model->admitted_bytes;
}

}  // namespace qeff::engine::compile_internal
