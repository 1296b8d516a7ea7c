// The compile graph with the `aic` driver over a fake SDK root
// (hw/aic/fake_sdk_testing.h): the vendor compiler runs as blocking work
// (on the graph's pool, hw::Device::CompileBlocks), gets the exported
// graph and the generated files, and its failure is the job's error while
// the other jobs finish.
#include <cstdlib>

#include "base/files.h"
#include "engine/compile_graph.h"
#include "gtest/gtest.h"
#include "hw/aic/fake_sdk_testing.h"
#include "hw/specialization.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

TEST(CompileGraphAic, RunsTheVendorCompilerAsBlockingWork) {
  const std::string root =
      hw::aic::testing::MakeFakeSdk(::testing::TempDir() + "/graph_sdk");
  ::setenv("QEFF_AIC_SDK_ROOT", root.c_str(), 1);
  ::setenv("TMPDIR", ::testing::TempDir().c_str(), 1);
  const std::string model = ::testing::TempDir() + "/graph_model.gguf";
  ASSERT_TRUE(models::WriteTestModelGguf({}, model).ok());
  std::vector<JobSpec> specs;
  for (const char* device : {"aic:0", "cpu"}) {
    JobSpec j;
    j.id = device;
    j.model_path = model;
    j.device = device;
    j.specializations = hw::PrefillDecodeSpecializations(1, 8, 32);
    j.compile.mxfp6_matmul = std::string(device) == "aic:0";
    specs.push_back(j);
  }
  CompileGraphOptions o;
  o.qeff_home = ::testing::TempDir() + "/graph_home";
  CompileGraph graph(o);
  std::vector<JobMsg> jobs = MakeJobs(specs);
  auto stats = graph.Run(jobs);
  ASSERT_TRUE(stats.ok()) << stats.status();
  for (const JobMsg& j : jobs) {
    const JobResult r = j.state->Snapshot();
    EXPECT_TRUE(r.status.ok()) << r.id << ": " << r.status;
  }
  const JobResult aic = jobs[0].state->Snapshot();
  EXPECT_TRUE(base::FileExists(aic.program_path + "/qpc/programqpc.bin"));
  auto args = base::ReadFile(root + "/last_args");
  ASSERT_TRUE(args.ok());
  EXPECT_NE(args->find("-mxfp6-matmul"), std::string::npos) << *args;
  EXPECT_NE(args->find("-custom-IO-list-file="), std::string::npos);

  // The compiler fails: that job fails with its message, the cpu job does
  // not. (A different specialization, so nothing is reused.)
  ::setenv("FAKE_QAIC_FAIL", "error: unsupported op in layer 3", 1);
  for (JobSpec& s : specs)
    s.specializations = hw::PrefillDecodeSpecializations(1, 4, 16);
  std::vector<JobMsg> again = MakeJobs(specs);
  auto stats2 = graph.Run(again);
  ::unsetenv("FAKE_QAIC_FAIL");
  ASSERT_TRUE(stats2.ok()) << stats2.status();
  const JobResult bad = again[0].state->Snapshot();
  EXPECT_FALSE(bad.status.ok());
  EXPECT_NE(bad.status.message().find("unsupported op in layer 3"),
            std::string::npos)
      << bad.status;
  EXPECT_TRUE(again[1].state->Snapshot().status.ok());
}

}  // namespace
}  // namespace qeff::engine
