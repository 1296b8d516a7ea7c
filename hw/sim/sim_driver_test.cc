#include "hw/sim/sim_driver.h"

#include <filesystem>

#include "base/files.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "hw/conformance/test_graphs.h"
#include "hw/device_registry.h"

namespace qeff::hw {
namespace {

// Outputs of a sim session are the host cpu driver's, call for call, with
// retained state carried between calls.
TEST(SimDriver, HostOutputsAndModelledReport) {
  auto m = testing::MakeTinyLlama({});
  ASSERT_TRUE(m.ok()) << m.status();
  auto specs = PrefillDecodeSpecializations(1, 4, 16);
  auto sim = OpenDevice("sim:ai100-pro");
  auto cpu = OpenDevice("cpu");
  ASSERT_TRUE(sim.ok()) << sim.status();
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ((*sim)->name(), "sim:ai100-pro");
  EXPECT_EQ((*sim)->kind(), "sim");
  CompileOptions opts;
  opts.num_cores = 16;
  auto sp = (*sim)->Compile(m->graph, specs, opts);
  ASSERT_TRUE(sp.ok()) << sp.status();
  auto cp = (*cpu)->Compile(m->graph, specs, {});
  ASSERT_TRUE(cp.ok()) << cp.status();
  auto report = base::ParseJson((*sp)->PerformanceReportJson());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->Find("device")->string_value(), "sim:ai100-pro");
  const base::JsonValue* calls = report->Find("calls");
  ASSERT_TRUE(calls && calls->is_array());
  ASSERT_EQ(calls->array().size(), 2u);
  EXPECT_EQ(calls->array()[0].Find("specialization")->string_value(),
            "Prefill");
  EXPECT_GT(calls->array()[1].Find("seconds")->number(), 0);
  EXPECT_EQ((*cp)->PerformanceReportJson(), "");

  auto ss = (*sim)->Load(*sp);
  auto cs = (*cpu)->Load(*cp);
  ASSERT_TRUE(ss.ok() && cs.ok());
  auto step = [&](const std::string& spec, std::vector<int64_t> ids,
                  std::vector<int64_t> pos) {
    const int64_t n = static_cast<int64_t>(ids.size());
    TensorMap in = {{"input_ids", ir::Tensor::I64({1, n}, ids)},
                    {"position_ids", ir::Tensor::I64({1, n}, pos)}};
    auto a = (*ss)->Run(spec, in);
    auto b = (*cs)->Run(spec, in);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->at("logits").ToFloats(), b->at("logits").ToFloats());
  };
  step("Prefill", {3, 7, 1, 9}, {0, 1, 2, 3});
  step("Decode", {5}, {4});
  step("Decode", {2}, {5});

  // Saved and loaded: same report, same outputs.
  const std::string dir = ::testing::TempDir() + "/sim_program";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE((*sim)->SaveProgram(**sp, dir, "").ok());
  auto loaded = (*sim)->LoadProgram(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->PerformanceReportJson(), (*sp)->PerformanceReportJson());
  auto ultra = OpenDevice("sim:ai100-ultra");
  ASSERT_TRUE(ultra.ok());
  auto wrong = (*ultra)->LoadProgram(dir);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SimDriver, BadSpecsAndPlacements) {
  auto bad = OpenDevice("sim:ai100-max");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ai100-ultra"), std::string::npos);
  auto m = testing::MakeTinyLlama({});
  ASSERT_TRUE(m.ok());
  auto sim = OpenDevice("sim:ai100-standard");
  ASSERT_TRUE(sim.ok());
  CompileOptions opts;
  opts.num_cores = 16;  // a Standard SoC has 14
  auto p =
      (*sim)->Compile(m->graph, PrefillDecodeSpecializations(1, 4, 16), opts);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("14 AI cores"), std::string::npos);
}

}  // namespace
}  // namespace qeff::hw
