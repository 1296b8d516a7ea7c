#include "engine/compile_graph.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/compile_stages.h"
#include "engine/generator.h"
#include "engine/lm_pipeline.h"
#include "gtest/gtest.h"
#include "hw/device_registry.h"
#include "hw/driver.h"
#include "models/model_loader.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Two seeded test models (a llama GGUF and a qwen2 HF folder), written once.
class CompileGraphTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/compile_graph_models");
    ::mkdir(dir_->c_str(), 0755);
    models::TestModelSpec a;
    ASSERT_TRUE(models::WriteTestModelGguf(a, ModelA()).ok());
    models::TestModelSpec b;
    b.arch = "qwen2";
    b.seed = 7;
    ASSERT_TRUE(models::WriteTestModelHf(b, ModelB()).ok());
    // An HF folder whose architecture nobody knows.
    models::TestModelSpec c;
    c.seed = 9;
    ASSERT_TRUE(models::WriteTestModelHf(c, Unknown()).ok());
    std::ifstream in(Unknown() + "/config.json");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string cfg = absl::StrReplaceAll(
        ss.str(), {{"\"LlamaForCausalLM\"", "\"NoSuchForCausalLM\""},
                   {"\"llama\"", "\"nosuch\""}});
    ASSERT_NE(cfg, ss.str());
    std::ofstream(Unknown() + "/config.json") << cfg;
  }
  static std::string ModelA() { return *dir_ + "/a.gguf"; }
  static std::string ModelB() { return *dir_ + "/b"; }
  static std::string Unknown() { return *dir_ + "/unknown"; }

  void SetUp() override {
    static int n = 0;
    home_ = absl::StrCat(
        ::testing::TempDir(), "/home", n++, "_",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  static JobSpec Job(const std::string& id, const std::string& model,
                     int64_t prompt_len, int64_t ctx_len) {
    JobSpec j;
    j.id = id;
    j.model_path = model;
    j.specializations =
        hw::PrefillDecodeSpecializations(1, prompt_len, ctx_len);
    return j;
  }

  // 3 specializations × 2 models, plus mxint8_kv_cache and continuous batching
  // on A.
  static std::vector<JobSpec> SixPlusTwo() {
    std::vector<JobSpec> jobs;
    const std::pair<int64_t, int64_t> shapes[] = {{8, 32}, {16, 32}, {8, 64}};
    for (const std::string& m : {ModelA(), ModelB()})
      for (auto [p, c] : shapes)
        jobs.push_back(
            Job(absl::StrCat(m == ModelA() ? "a" : "b", p, "x", c), m, p, c));
    JobSpec mx = Job("a-mxint8kv", ModelA(), 8, 32);
    mx.compile.mxint8_kv_cache = true;
    jobs.push_back(mx);
    JobSpec cb = Job("a-cb", ModelA(), 8, 32);
    cb.transform.continuous_batching = true;
    cb.specializations = hw::CausalLMSpecializations(8, 32, 1, 2);
    jobs.push_back(cb);
    return jobs;
  }

  CompileGraphOptions Options() const {
    CompileGraphOptions o;
    o.qeff_home = home_;
    return o;
  }

  static std::string* dir_;
  std::string home_;
};
std::string* CompileGraphTest::dir_ = nullptr;

std::map<std::string, JobResult> Results(const std::vector<JobMsg>& jobs) {
  std::map<std::string, JobResult> out;
  for (const JobMsg& j : jobs) out[j.spec->id] = j.state->Snapshot();
  return out;
}

TEST_F(CompileGraphTest,
       LoadsOnceExportsOncePerTransformWritesEveryProgramThenReuses) {
  std::mutex mu;
  std::map<std::string, int> stage_calls;  // "load" → per-job reports
  CompileGraphOptions o = Options();
  o.on_stage_done = [&](const JobSpec&, absl::string_view stage,
                        const JobState&) {
    std::lock_guard<std::mutex> l(mu);
    stage_calls[std::string(stage)]++;
  };
  std::vector<JobMsg> jobs = MakeJobs(SixPlusTwo());
  CompileGraph graph(o);
  auto stats = graph.Run(jobs);
  ASSERT_TRUE(stats.ok()) << stats.status();
  auto r = Results(jobs);
  std::set<std::string> programs;
  for (auto& [id, res] : r) {
    EXPECT_TRUE(res.status.ok()) << id << ": " << res.status;
    EXPECT_TRUE(IsDir(res.program_path)) << id;
    EXPECT_TRUE((*hw::OpenDevice("cpu"))->LoadProgram(res.program_path).ok())
        << id;
    EXPECT_FALSE(res.onnx_reused);
    EXPECT_FALSE(res.program_reused);
    EXPECT_GT(res.timings_s.at("compile"), 0) << id;
    programs.insert(res.program_path);
  }
  EXPECT_EQ(programs.size(), jobs.size());
  EXPECT_EQ(stats->loads, 2);       // one per model
  EXPECT_EQ(stats->transforms, 3);  // A, A with continuous batching, B
  EXPECT_EQ(stats->exports_written, 3);
  EXPECT_EQ(stats->compiles, 8);
  EXPECT_EQ(stats->programs_written, 8);
  EXPECT_EQ(stage_calls["load"], 8);  // one shared load reported to each job
  EXPECT_EQ(stage_calls["write"], 8);
  // The jobs of one model and transform share one ONNX.
  EXPECT_EQ(r["a8x32"].onnx_path, r["a16x32"].onnx_path);
  EXPECT_EQ(r["a8x32"].onnx_path, r["a-mxint8kv"].onnx_path);
  EXPECT_NE(r["a8x32"].onnx_path, r["a-cb"].onnx_path);
  EXPECT_NE(r["a8x32"].onnx_path, r["b8x32"].onnx_path);
  EXPECT_EQ(
      r["b8x32"].onnx_path.find(home_ + "/Qwen2ForCausalLM/Qwen2ForCausalLM-"),
      0u);

  // A second run (new graph, new states): everything is reused.
  std::vector<JobMsg> again = MakeJobs(SixPlusTwo());
  CompileGraph graph2(Options());
  auto stats2 = graph2.Run(again);
  ASSERT_TRUE(stats2.ok()) << stats2.status();
  EXPECT_EQ(stats2->loads, 2);  // the keys need the model's identity
  EXPECT_EQ(stats2->exports_written, 0);
  EXPECT_EQ(stats2->exports_reused, 3);
  EXPECT_EQ(stats2->compiles, 0);
  EXPECT_EQ(stats2->programs_reused, 8);
  for (auto& [id, res] : Results(again)) {
    EXPECT_TRUE(res.status.ok()) << id << ": " << res.status;
    EXPECT_TRUE(res.onnx_reused) << id;
    EXPECT_TRUE(res.program_reused) << id;
    EXPECT_EQ(res.program_path, r[id].program_path);
    EXPECT_EQ(res.onnx_path, r[id].onnx_path);
  }
}

TEST_F(CompileGraphTest, BadJobsFailAlone) {
  std::vector<JobSpec> specs = {Job("good", ModelA(), 8, 32),
                                Job("missing", *dir_ + "/missing.gguf", 8, 32),
                                Job("unknown-arch", Unknown(), 8, 32),
                                Job("good-b", ModelB(), 8, 32)};
  JobSpec ref = Job("reference", ModelA(), 8, 32);
  ref.device = "reference";
  specs.push_back(ref);
  JobSpec tpu = Job("tpu", ModelA(), 8, 32);
  tpu.device = "tpu";
  specs.push_back(tpu);
  JobSpec cores = Job("too-many-cores", ModelB(), 8, 32);
  cores.compile.num_cores = 100000;
  specs.push_back(cores);
  std::vector<JobMsg> jobs = MakeJobs(specs);
  CompileGraph graph(Options());
  auto stats = graph.Run(jobs);
  ASSERT_TRUE(stats.ok()) << stats.status();
  auto r = Results(jobs);
  EXPECT_TRUE(r["good"].status.ok()) << r["good"].status;
  EXPECT_TRUE(r["good-b"].status.ok()) << r["good-b"].status;
  EXPECT_TRUE(IsDir(r["good"].program_path));
  auto expect_error = [&](const std::string& id, const std::string& want) {
    EXPECT_FALSE(r[id].status.ok()) << id;
    EXPECT_NE(r[id].status.message().find(want), std::string::npos)
        << id << ": " << r[id].status;
    EXPECT_TRUE(r[id].program_path.empty()) << id;
  };
  expect_error("missing", "missing.gguf");
  expect_error("unknown-arch", "load: ");
  expect_error("unknown-arch", "nosuch");
  expect_error("tpu", "unknown device 'tpu'");
  expect_error("too-many-cores", "num_cores=100000");
  EXPECT_EQ(stats->loads, 2);  // A and B; the unknown architecture failed
  // Every device saves its programs: the reference job wrote one too.
  EXPECT_TRUE(r["reference"].status.ok()) << r["reference"].status;
  EXPECT_TRUE(IsDir(r["reference"].program_path));
  EXPECT_EQ(stats->programs_written, 3);
  // A rerun reuses all three (the reference program loads back from its
  // ONNX).
  std::vector<JobSpec> again_specs;
  for (const JobSpec& s : specs)
    if (s.id == "good" || s.id == "good-b" || s.id == "reference")
      again_specs.push_back(s);
  std::vector<JobMsg> again = MakeJobs(again_specs);
  auto stats2 = CompileGraph(Options()).Run(again);
  ASSERT_TRUE(stats2.ok()) << stats2.status();
  auto r2 = Results(again);
  EXPECT_TRUE(r2["reference"].status.ok()) << r2["reference"].status;
  EXPECT_TRUE(r2["reference"].program_reused);
  EXPECT_EQ(r2["reference"].program_path, r["reference"].program_path);
  EXPECT_EQ(stats2->programs_written, 0);
  EXPECT_EQ(stats2->compiles, 0);
}

TEST_F(CompileGraphTest, MemoryBudget) {
  auto a = EstimateModelBytes(ModelA());
  auto b = EstimateModelBytes(ModelB());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(*a, 0);
  // Both fit alone, not together: they take turns.
  {
    CompileGraphOptions o = Options();
    o.memory_budget_bytes = std::max(*a, *b) + std::min(*a, *b) / 2;
    std::vector<JobMsg> jobs =
        MakeJobs({Job("a", ModelA(), 8, 32), Job("b", ModelB(), 8, 32),
                  Job("a2", ModelA(), 8, 64)});
    CompileGraph graph(o);
    auto stats = graph.Run(jobs);
    ASSERT_TRUE(stats.ok()) << stats.status();
    for (auto& [id, res] : Results(jobs))
      EXPECT_TRUE(res.status.ok()) << id << ": " << res.status;
    EXPECT_EQ(stats->peak_admitted_bytes, std::max(*a, *b));
    EXPECT_EQ(stats->loads, 2);
  }
  // A model bigger than the whole budget fails at once; the other runs.
  {
    CompileGraphOptions o = Options();
    o.memory_budget_bytes = std::min(*a, *b);
    const std::string big = *a > *b ? ModelA() : ModelB();
    const std::string small = *a > *b ? ModelB() : ModelA();
    std::vector<JobMsg> jobs =
        MakeJobs({Job("big", big, 8, 32), Job("small", small, 8, 32)});
    CompileGraph graph(o);
    auto stats = graph.Run(jobs);
    ASSERT_TRUE(stats.ok()) << stats.status();
    auto r = Results(jobs);
    EXPECT_EQ(r["big"].status.code(), absl::StatusCode::kResourceExhausted)
        << r["big"].status;
    EXPECT_NE(
        r["big"].status.message().find("more than the whole memory budget"),
        std::string::npos);
    EXPECT_TRUE(r["small"].status.ok()) << r["small"].status;
    EXPECT_EQ(stats->loads, 1);
  }
}

TEST_F(CompileGraphTest, CancelOneJob) {
  std::vector<JobMsg> jobs =
      MakeJobs({Job("a1", ModelA(), 8, 32), Job("a2", ModelA(), 16, 32),
                Job("b1", ModelB(), 8, 32)});
  // Cancel a2 once its export is done (the shared stages ran for it).
  CompileGraphOptions o = Options();
  o.on_stage_done = [&](const JobSpec& spec, absl::string_view stage,
                        const JobState&) {
    if (spec.id == "a2" && stage == "export") jobs[1].state->RequestCancel();
  };
  // b1 is cancelled before the run: its model is never loaded.
  jobs[2].state->RequestCancel();
  CompileGraph graph(o);
  auto stats = graph.Run(jobs);
  ASSERT_TRUE(stats.ok()) << stats.status();
  auto r = Results(jobs);
  EXPECT_TRUE(r["a1"].status.ok()) << r["a1"].status;
  EXPECT_EQ(r["a2"].status.code(), absl::StatusCode::kCancelled);
  EXPECT_NE(r["a2"].status.message().find("before compile"), std::string::npos)
      << r["a2"].status;
  EXPECT_EQ(r["b1"].status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(stats->loads, 1);
  EXPECT_EQ(stats->compiles, 1);
  EXPECT_TRUE(r["a2"].program_path.empty());
}

TEST_F(CompileGraphTest, CancelAllThenRunAgain) {
  std::vector<JobSpec> specs = {
      Job("a1", ModelA(), 8, 32), Job("a2", ModelA(), 16, 32),
      Job("b1", ModelB(), 8, 32), Job("b2", ModelB(), 16, 32)};
  CompileGraphOptions o = Options();
  o.max_concurrency = 1;
  CompileGraph* graph_ptr = nullptr;
  std::atomic<bool> armed{true};
  o.on_stage_done = [&](const JobSpec&, absl::string_view stage,
                        const JobState&) {
    if (stage == "load" && armed.exchange(false)) graph_ptr->CancelAll();
  };
  CompileGraph graph(o);
  graph_ptr = &graph;
  std::vector<JobMsg> jobs = MakeJobs(specs);
  auto stats = graph.Run(jobs);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(stats->cancelled_all);
  EXPECT_EQ(stats->compiles, 0);
  EXPECT_EQ(stats->programs_written, 0);
  for (auto& [id, res] : Results(jobs))
    EXPECT_EQ(res.status.code(), absl::StatusCode::kCancelled)
        << id << ": " << res.status;

  // The same graph, reset, runs the jobs again to the end.
  std::vector<JobMsg> again = MakeJobs(specs);
  auto stats2 = graph.Run(again);
  ASSERT_TRUE(stats2.ok()) << stats2.status();
  EXPECT_FALSE(stats2->cancelled_all);
  EXPECT_EQ(stats2->loads, 2);
  EXPECT_EQ(stats2->programs_written, 4);
  for (auto& [id, res] : Results(again))
    EXPECT_TRUE(res.status.ok()) << id << ": " << res.status;
}

TEST_F(CompileGraphTest, FarmProgramGeneratesWhatTheInferPathGenerates) {
  const int64_t prompt_len = 8, ctx_len = 32;
  std::vector<JobMsg> jobs =
      MakeJobs({Job("a", ModelA(), prompt_len, ctx_len)});
  CompileGraph graph(Options());
  ASSERT_TRUE(graph.Run(jobs).ok());
  JobResult r = jobs[0].state->Snapshot();
  ASSERT_TRUE(r.status.ok()) << r.status;
  auto device = hw::OpenDevice("cpu");
  ASSERT_TRUE(device.ok());

  GenerationOptions go;
  go.prefill_seq_len = prompt_len;
  go.ctx_len = ctx_len;
  go.generation_len = 12;
  const std::vector<int64_t> prompt = models::TestPromptIds();

  auto program = (*device)->LoadProgram(r.program_path);
  ASSERT_TRUE(program.ok()) << program.status();
  auto session = (*device)->Load(*program);
  ASSERT_TRUE(session.ok()) << session.status();
  auto farm = Generator(session->get()).Generate(prompt, go);
  ASSERT_TRUE(farm.ok()) << farm.status();

  // tools/infer's path: load, transform, compile in memory.
  auto model = models::Load(ModelA());
  ASSERT_TRUE(model.ok()) << model.status();
  auto transformed = TransformForDevice(model->eager, {});
  ASSERT_TRUE(transformed.ok());
  auto compiled = (*device)->Compile(
      *transformed, hw::PrefillDecodeSpecializations(1, prompt_len, ctx_len),
      {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  auto session2 = (*device)->Load(*compiled);
  ASSERT_TRUE(session2.ok());
  auto infer = Generator(session2->get()).Generate(prompt, go);
  ASSERT_TRUE(infer.ok()) << infer.status();
  EXPECT_EQ(farm->token_ids.size(), 12u);
  EXPECT_EQ(farm->token_ids, infer->token_ids);
}

// The stage bodies run without a graph.
TEST(CompileStages, AdmissionKeepsTheBudget) {
  using compile_internal::Admission;
  using compile_internal::ModelWork;
  auto model = [](int64_t bytes) {
    auto m = std::make_shared<ModelWork>();
    m->bytes = bytes;
    m->jobs = MakeJobs({JobSpec{}});
    return m;
  };
  Admission adm(100);
  auto m1 = model(60), m2 = model(60), m3 = model(30), big = model(101),
       bad = model(1);
  bad->plan_error = absl::NotFoundError("x.gguf: cannot stat");
  EXPECT_EQ(adm.Arrive(m1).size(), 1u);
  EXPECT_TRUE(adm.Arrive(m2).empty());  // waits
  EXPECT_TRUE(adm.Arrive(m3).empty());  // FIFO: behind m2
  auto rejected = adm.Arrive(big);      // fails at once
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(big->jobs[0].state->Snapshot().status.code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(big->admitted_bytes, 0);
  ASSERT_EQ(adm.Arrive(bad).size(), 1u);
  EXPECT_EQ(bad->jobs[0].state->Snapshot().status.code(),
            absl::StatusCode::kNotFound);
  auto next = adm.Release(60);
  ASSERT_EQ(next.size(), 2u);  // m2 and m3 fit together
  EXPECT_EQ(next[0], m2);
  EXPECT_EQ(adm.in_use(), 90);
  EXPECT_EQ(adm.peak(), 90);
  // A cancelled model passes without taking bytes.
  auto m4 = model(50);
  m4->jobs[0].state->RequestCancel();
  ASSERT_EQ(adm.Arrive(m4).size(), 1u);
  EXPECT_EQ(m4->admitted_bytes, 0);
}

TEST(CompileStages, LoadFailureFailsEveryJobOfTheModel) {
  compile_internal::StageContext ctx;
  compile_internal::ModelWork m;
  m.path = ::testing::TempDir() + "/nothing-here.gguf";
  m.jobs = MakeJobs({JobSpec{}, JobSpec{}});
  compile_internal::LoadStage{&ctx}(m);
  EXPECT_EQ(ctx.counters.loads, 0);
  for (const JobMsg& j : m.jobs) {
    JobResult r = j.state->Snapshot();
    EXPECT_FALSE(r.status.ok());
    EXPECT_NE(r.status.message().find("nothing-here.gguf"), std::string::npos)
        << r.status;
  }
}

}  // namespace
}  // namespace qeff::engine
