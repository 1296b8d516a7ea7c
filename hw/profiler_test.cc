#include "hw/profiler.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "gtest/gtest.h"

namespace qeff::hw {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Profiler, OffByDefaultAndStartClears) {
  Profiler p;
  EXPECT_FALSE(p.enabled());
  p.Start();
  p.Record({"MatMul", "step", "Prefill", "n0", 0, 10, 5});
  EXPECT_EQ(p.spans().size(), 1u);
  p.Start();
  EXPECT_TRUE(p.spans().empty());
  p.Stop();
  EXPECT_FALSE(p.enabled());
}

TEST(Profiler, ChromeTraceIsJsonWithMicrosecondTimes) {
  Profiler p;
  p.Start();
  p.Record({"Linear", "step", "Prefill", "model.layers.0.mlp \"up\"", 0, 1000,
            2500});
  p.Record({"Linear", "chunk", "Prefill", "", 1, 1500, 1000});
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/trace.json";
  ASSERT_TRUE(p.WriteChromeTrace(path).ok());
  auto j = base::ParseJson(ReadAll(path));
  ASSERT_TRUE(j.ok()) << j.status();
  const base::JsonValue* ev = j->Find("traceEvents");
  ASSERT_TRUE(ev && ev->is_array());
  ASSERT_EQ(ev->array().size(), 2u);
  const base::JsonValue& a = ev->array()[0];
  EXPECT_EQ(a.Find("name")->string_value(), "Linear");
  EXPECT_EQ(a.Find("ph")->string_value(), "X");
  EXPECT_DOUBLE_EQ(a.Find("ts")->number(), 0.0);  // relative to the first
  EXPECT_DOUBLE_EQ(a.Find("dur")->number(), 2.5);
  EXPECT_EQ(a.Find("args")->Find("node")->string_value(),
            "model.layers.0.mlp \"up\"");
  EXPECT_EQ(a.Find("args")->Find("group")->string_value(), "Prefill");
  const base::JsonValue& b = ev->array()[1];
  EXPECT_DOUBLE_EQ(b.Find("ts")->number(), 0.5);
  EXPECT_EQ(*b.Find("tid")->AsInt64(), 1);
}

TEST(Profiler, WriteErrorNamesThePath) {
  Profiler p;
  auto st = p.WriteChromeTrace("/nonexistent-dir/trace.json");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent-dir/trace.json"), std::string::npos)
      << st;
}

TEST(Profiler, SummarySortsKernelsByTotalTime) {
  Profiler p;
  p.Start();
  p.Record({"Add", "step", "Prefill", "", 0, 0, 1'000'000});
  p.Record({"Linear", "step", "Prefill", "", 0, 1'000'000, 3'000'000});
  p.Record({"Linear", "step", "Prefill", "", 0, 4'000'000, 1'000'000});
  p.Record({"Linear", "chunk", "Prefill", "", 1, 4'000'000, 500'000});
  const std::string t = p.SummaryTable();
  const size_t lin = t.find("Linear"), add = t.find("Add");
  ASSERT_NE(lin, std::string::npos);
  ASSERT_NE(add, std::string::npos);
  EXPECT_LT(lin, add) << t;
  EXPECT_NE(t.find("80.0%"), std::string::npos) << t;  // 4 of 5 ms
  EXPECT_NE(t.find("all steps"), std::string::npos) << t;
  EXPECT_EQ(t.find("Prefill"), 0u) << t;  // the group's heading
  EXPECT_NE(t.find("thread 1"), std::string::npos) << t;
}

TEST(Profiler, ThreadIdsAreStablePerThreadAndDistinct) {
  const int here = Profiler::ThreadId();
  EXPECT_EQ(Profiler::ThreadId(), here);
  int there = here;
  std::thread t([&] { there = Profiler::ThreadId(); });
  t.join();
  EXPECT_NE(there, here);
}

TEST(Profiler, BoundedSpanCount) {
  Profiler p(10);
  p.Start();
  for (int i = 0; i < 13; ++i) p.Record({"x", "chunk", "Prefill", "", 0, 0, 1});
  EXPECT_EQ(p.spans().size(), 10u);
  EXPECT_EQ(p.dropped(), 3);
  EXPECT_NE(p.SummaryTable().find("dropped spans (over 10): 3"),
            std::string::npos);
}

}  // namespace
}  // namespace qeff::hw
