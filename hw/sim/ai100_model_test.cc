#include "hw/sim/ai100_model.h"

#include <cmath>

#include "gtest/gtest.h"

namespace qeff::hw::sim {
namespace {

// A 7B-shaped decode call, written out by hand: 6.5e9 weight elements,
// 32 layers, a 4096-wide hidden, 2*32*32*128*1024 KV elements.
Workload Decode7B() {
  Workload w;
  w.specialization = "Decode";
  w.batch_size = 1;
  w.seq_len = 1;
  w.matmul_weight_elements = 6.5e9;
  w.matmul_flops = 2.0 * 6.5e9;
  w.other_constant_elements = 1.3e8;
  w.state_elements = 2.0 * 32 * 32 * 128 * 1024;
  w.state_write_fraction = 1.0 / 1024;
  w.layers = 32;
  w.hidden_size = 4096;
  return w;
}

TEST(Ai100Model, SkuTableMatchesDesign) {
  auto u = FindSku("ai100-ultra");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->socs_per_card * u->cores_per_soc, 64);
  EXPECT_DOUBLE_EQ(u->socs_per_card * u->ddr_bytes_per_s_per_soc, 548e9);
  EXPECT_DOUBLE_EQ(u->socs_per_card * u->fp16_flops_per_soc, 290e12);
  auto s = FindSku("ai100-standard");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->cores_per_soc, 14);
  EXPECT_DOUBLE_EQ(s->ddr_bytes_per_soc, 16e9);
  auto bad = FindSku("ai100-max");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ai100-pro"), std::string::npos);
}

TEST(Ai100Model, DecodeIsMemoryBoundAndFollowsTheBytes) {
  auto pro = FindSku("ai100-pro");
  ASSERT_TRUE(pro.ok());
  Placement p;
  auto e = EstimateWorkloads({Decode7B()}, *pro, p);
  ASSERT_TRUE(e.ok()) << e.status();
  const CallEstimate& c = e->calls[0];
  EXPECT_EQ(c.bound, "memory");
  // Streamed weights (fp16, less the SRAM-resident part) + KV read+write.
  const double kv = 2.0 * 32 * 32 * 128 * 1024 * 2;
  const double bytes = 6.5e9 * 2 - 144e6 + kv * (1 + 1.0 / 1024);
  EXPECT_NEAR(c.seconds, bytes / 137e9, 1e-9);
  EXPECT_NEAR(c.tokens_per_s, 1 / c.seconds, 1e-9);
  // MXFP6 weights are 6.25 bits: about 2.5x fewer bytes, faster decode.
  p.mxfp6_matmul = true;
  auto mx = EstimateWorkloads({Decode7B()}, *pro, p);
  ASSERT_TRUE(mx.ok());
  EXPECT_GT(mx->calls[0].tokens_per_s, 2.0 * c.tokens_per_s);
  // MXINT8 KV: fewer KV bytes, and the footprint shrinks.
  p.mxint8_kv_cache = true;
  auto kv8 = EstimateWorkloads({Decode7B()}, *pro, p);
  ASSERT_TRUE(kv8.ok());
  EXPECT_LT(kv8->state_bytes, mx->state_bytes * 0.52);
  EXPECT_GT(kv8->calls[0].tokens_per_s, mx->calls[0].tokens_per_s);
}

TEST(Ai100Model, PrefillIsComputeBoundAndScalesWithCores) {
  auto pro = FindSku("ai100-pro");
  ASSERT_TRUE(pro.ok());
  Workload w = Decode7B();
  w.specialization = "Prefill";
  w.seq_len = 1024;
  w.matmul_flops = 2.0 * 6.5e9 * 1024;
  Placement p;
  auto all = EstimateWorkloads({w}, *pro, p);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->calls[0].bound, "compute");
  EXPECT_NEAR(all->calls[0].seconds, w.matmul_flops / 125e12, 1e-12);
  p.num_cores = 8;
  auto half = EstimateWorkloads({w}, *pro, p);
  ASSERT_TRUE(half.ok());
  EXPECT_NEAR(half->calls[0].seconds, 2 * all->calls[0].seconds, 1e-12);
  p.num_cores = 17;
  auto bad = EstimateWorkloads({w}, *pro, p);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Ai100Model, DoesNotFitNamesTheShortfallAndMoreSocsFit) {
  auto std_sku = FindSku("ai100-standard");
  ASSERT_TRUE(std_sku.ok());
  Workload w = Decode7B();
  w.matmul_weight_elements = 13e9;  // 26 GB of fp16 weights
  Placement p;
  auto e = EstimateWorkloads({w}, *std_sku, p);
  ASSERT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(e.status().message().find("short by"), std::string::npos);
  EXPECT_NE(e.status().message().find("16.00 GB"), std::string::npos);
  p.num_devices = 2;  // two cards
  auto two = EstimateWorkloads({w}, *std_sku, p);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->cards, 2);
  EXPECT_GT(two->calls[0].link_s, 0);
}

TEST(Ai100Model, UltraSocsSplitTheWork) {
  auto u = FindSku("ai100-ultra");
  ASSERT_TRUE(u.ok());
  Placement one, four;
  four.num_devices = 4;
  auto a = EstimateWorkloads({Decode7B()}, *u, one);
  auto b = EstimateWorkloads({Decode7B()}, *u, four);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->cards, 1);
  EXPECT_LT(b->calls[0].seconds, a->calls[0].seconds / 3);
  EXPECT_NEAR(b->ddr_bytes_per_soc, a->ddr_bytes_per_soc / 4, 1);
}

TEST(Ai100Model, TtftCountsChunks) {
  CallEstimate c;
  c.seq_len = 128;
  c.seconds = 0.5;
  EXPECT_DOUBLE_EQ(TimeToFirstToken(c, 1), 0.5);
  EXPECT_DOUBLE_EQ(TimeToFirstToken(c, 128), 0.5);
  EXPECT_DOUBLE_EQ(TimeToFirstToken(c, 129), 1.0);
}

TEST(Ai100Model, ReportRoundTripsThroughJson) {
  auto pro = FindSku("ai100-pro");
  ASSERT_TRUE(pro.ok());
  Workload prefill = Decode7B();
  prefill.specialization = "Prefill";
  prefill.seq_len = 128;
  prefill.matmul_flops *= 128;
  auto e = EstimateWorkloads({prefill, Decode7B()}, *pro, Placement{});
  ASSERT_TRUE(e.ok());
  auto run = ModelledRunFromJson(EstimateToJson(*e), 300);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->device, "sim:ai100-pro");
  EXPECT_EQ(run->num_cores, 16);
  ASSERT_EQ(run->calls.size(), 2u);
  EXPECT_DOUBLE_EQ(run->calls[0].seconds, e->calls[0].seconds);
  EXPECT_DOUBLE_EQ(run->ttft_s, 3 * e->calls[0].seconds);  // 3 chunks
  EXPECT_DOUBLE_EQ(run->decode_tokens_per_s, e->calls[1].tokens_per_s);
  EXPECT_FALSE(ModelledRunFromJson("{\"x\":1}", 1).ok());
  EXPECT_FALSE(ModelledRunFromJson("not json", 1).ok());
}

}  // namespace
}  // namespace qeff::hw::sim
