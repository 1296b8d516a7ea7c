#include "engine/job.h"

#include "engine/batch_generator.h"
#include "gtest/gtest.h"

namespace qeff::engine {
namespace {

TEST(ParseJobs, JsonLinesWithShorthandAndNamedSpecializations) {
  auto jobs = ParseJobs(
      R"({"model": "a.gguf", "prompt_len": 16, "ctx_len": 64, "mxfp6_matmul": true}

{"id": "b1", "model": "dir", "device": "cpu:2/1", "num_cores": 1,
  "specializations": [{"name": "Prefill", "symbols": {"batch_size": "1", "seq_len": 8, "ctx_len": "32"}}]}
)",
      "jobs.jsonl");
  // The second object spans two lines: JSON lines means one per line.
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.status().message().find("jobs.jsonl:3"), std::string::npos)
      << jobs.status();

  jobs = ParseJobs(
      "{\"model\": \"a.gguf\", \"prompt_len\": 16, \"ctx_len\": 64, "
      "\"mxfp6_matmul\": true}\n\n"
      "{\"id\": \"b1\", \"model\": \"dir\", \"device\": \"cpu:2/1\", "
      "\"num_cores\": 1, "
      "\"specializations\": [{\"name\": \"Prefill\", \"symbols\": "
      "{\"batch_size\": \"1\", "
      "\"seq_len\": 8, \"ctx_len\": \"32\"}}]}\n",
      "jobs.jsonl");
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  const JobSpec& a = (*jobs)[0];
  EXPECT_EQ(a.id, "job0");
  EXPECT_EQ(a.model_path, "a.gguf");
  EXPECT_EQ(a.device, "cpu");
  EXPECT_TRUE(a.compile.mxfp6_matmul);
  ASSERT_EQ(a.specializations.size(), 2u);
  EXPECT_EQ(a.specializations[0].name, "Prefill");
  EXPECT_EQ(a.specializations[0].symbols.at("seq_len"), 16);
  EXPECT_EQ(a.specializations[1].symbols.at("seq_len"), 1);
  EXPECT_EQ(a.specializations[1].symbols.at("ctx_len"), 64);
  const JobSpec& b = (*jobs)[1];
  EXPECT_EQ(b.id, "b1");
  EXPECT_EQ(b.device, "cpu:2/1");
  EXPECT_EQ(b.compile.num_cores, 1);
  ASSERT_EQ(b.specializations.size(), 1u);
  EXPECT_EQ(b.specializations[0].symbols.at("ctx_len"), 32);
}

TEST(ParseJobs, JsonList) {
  auto jobs = ParseJobs(
      R"([{"model": "m1"}, {"model": "m2", "continuous_batching": true,
      "full_batch_size": 4, "batch_size": 1}])",
      "jobs.json");
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].specializations[0].symbols.at("ctx_len"),
            128);  // defaults
  EXPECT_EQ((*jobs)[0].specializations[0].symbols.at("seq_len"), 32);
  EXPECT_TRUE((*jobs)[1].transform.continuous_batching);
  EXPECT_EQ((*jobs)[1].specializations[1].symbols.at("full_batch_size"), 4);
  // QEfficient's continuous-batching shapes: Prefill batch 1, Decode batch
  // full_batch_size — what ContinuousBatchOptionsFor accepts.
  EXPECT_EQ((*jobs)[1].specializations[0].symbols.at("batch_size"), 1);
  EXPECT_EQ((*jobs)[1].specializations[1].symbols.at("batch_size"), 4);
  EXPECT_TRUE(ContinuousBatchOptionsFor((*jobs)[1].specializations).ok());
}

TEST(ParseJobs, PrecisionFields) {
  auto jobs = ParseJobs(
      R"([{"model": "m", "weight_format": "q4_0"},
          {"model": "m", "weight_dtype": "bf16", "all_logits": true}])",
      "jobs.json");
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ((*jobs)[0].compile.weight_format, ir::QuantFormat::kQ4_0);
  EXPECT_EQ((*jobs)[1].compile.weight_dtype, ir::DType::kBF16);
  EXPECT_TRUE((*jobs)[1].transform.all_logits);
  auto bad = ParseJobs(R"({"model": "m", "weight_format": "q3_k"})", "j");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'q3_k'"), std::string::npos)
      << bad.status();
}

TEST(ParseJobs, ErrorsNameTheFieldAndTheJob) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {R"({"model": "m", "prompt_length": 3})",
       "jobs:1: unknown field 'prompt_length'"},
      {R"([{"model": "m"}, {"model": "m", "mxfp6": true}])",
       "job 1: unknown field 'mxfp6'"},
      {R"({"ctx_len": 3})", "missing \"model\""},
      {R"({"model": "m", "ctx_len": "128"})",
       "jobs:1.ctx_len: expected an integer"},
      {R"({"model": "m", "ctx_len": -1})", "jobs:1.ctx_len: must be positive"},
      {R"({"model": "m", "mxfp6_matmul": 1})",
       "mxfp6_matmul: expected true or false"},
      {R"({"model": "m", "prompt_len": 64, "ctx_len": 32})",
       "prompt_len 64 exceeds ctx_len 32"},
      {R"({"model": "m", "prompt_len": 8, "specializations": [{"name": "P", "symbols": {"seq_len": 1}}]})",
       "not both"},
      {R"({"model": "m", "specializations": [{"name": "P", "symbols": {"seq_len": 1}, "x": 1}]})",
       "specializations[0]: unknown field 'x'"},
      {R"({"model": "m", "specializations": [{"name": "P", "symbols": {"seq_len": 1}}, {"name": "P", "symbols": {"seq_len": 2}}]})",
       "duplicate specialization name 'P'"},
      {R"({"model": "m", "continuous_batching": true})",
       "needs \"full_batch_size\""},
      {R"({"model": "m", "full_batch_size": 2})",
       "needs \"continuous_batching\": true"},
      {"{\"model\": \"m\", \"id\": \"x\"}\n{\"model\": \"n\", \"id\": \"x\"}",
       "duplicate job id 'x'"},
      {"{\"model\": \"m\"", "jobs:1:"},
      {"  \n ", "jobs: no jobs"},
      {"[]", "jobs: no jobs"},
      {"[1]", "job 0: expected an object"},
  };
  for (const Case& c : cases) {
    auto jobs = ParseJobs(c.text, "jobs");
    ASSERT_FALSE(jobs.ok()) << c.text;
    EXPECT_NE(jobs.status().message().find(c.want), std::string::npos)
        << c.text << " → " << jobs.status();
  }
}

TEST(JobState, FirstTerminalStatusWinsAndCancelIsCheckedBetweenStages) {
  JobState s("j");
  EXPECT_TRUE(s.live());
  EXPECT_FALSE(s.SkipIfNotLive("load"));
  s.RequestCancel();
  EXPECT_FALSE(s.live());
  EXPECT_TRUE(s.SkipIfNotLive("compile"));
  s.Finish(absl::OkStatus());  // ignored: already cancelled
  JobResult r = s.Snapshot();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kCancelled);
  EXPECT_NE(r.status.message().find("before compile"), std::string::npos);

  JobState t("t");
  t.AddTiming("load", 1.5);
  t.AddTiming("load", 0.5);
  t.Fail(absl::NotFoundError("x"));
  t.Finish(absl::OkStatus());
  EXPECT_EQ(t.Snapshot().status.code(), absl::StatusCode::kNotFound);
  EXPECT_DOUBLE_EQ(t.Snapshot().timings_s.at("load"), 2.0);
}

}  // namespace
}  // namespace qeff::engine
