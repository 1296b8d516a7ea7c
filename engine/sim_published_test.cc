// The sim model against published Cloud AI 100 figures (the comparison in
// hw/sim/published_figures.md). These tests pin the model's stated error
// against each figure: if the model changes, the document must change with
// it. The constants were fixed before this comparison was written (commit
// order on the branch); nothing here tunes them.
#include <cstdlib>

#include "engine/sim_plan.h"
#include "gtest/gtest.h"

namespace qeff::engine {
namespace {

std::string ConfigPath(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::string base = srcdir && ws ? std::string(srcdir) + "/" + ws + "/" : "";
  return base + "models/configs/" + name + "/config.json";
}

// quic/efficient-transformers issue #78 (2024-07-23): "around 6 token/s for
// decode" for gorilla-llm/gorilla-openfunctions-v2 on AI 100 with
// --batch_size 1 --prompt_len 64 --ctx_len 4096 --num_cores 16 --mos 1
// --aic_enable_depth_first, fp16 weights (no --mxfp6). num_cores 16 means
// a Pro or an Ultra SoC (a Standard has 14); they model the same.
TEST(SimPublished, Issue78DecodeIsOptimisticByHalf) {
  auto c = ModelConfigFromFile(ConfigPath("gorilla-openfunctions-v2"));
  ASSERT_TRUE(c.ok()) << c.status();
  CompileParams p;
  p.prefill_seq_len = 64;
  p.ctx_len = 4096;
  p.num_cores = 16;
  for (const char* sku : {"ai100-pro", "ai100-ultra"}) {
    auto e = PlanFromConfig(*c, p, *hw::sim::FindSku(sku));
    ASSERT_TRUE(e.ok()) << e.status();
    const double modelled = e->calls[1].tokens_per_s;
    EXPECT_NEAR(modelled, 9.2, 0.05) << sku;
    // Error against the reported 6 tokens/s: +53 %.
    EXPECT_NEAR((modelled - 6.0) / 6.0, 0.53, 0.01) << sku;
  }
}

// arXiv 2507.00418 (Sada et al., 2025): "some 70B models operate on as few
// as 1 QAic card" (Cloud AI 100 Ultra). The model agrees only with MXFP6
// weights: fp16 Llama-2-70B is 138 GB, over one card's 128 GB.
TEST(SimPublished, Llama70bOnOneUltraCardNeedsMxfp6) {
  auto c = ModelConfigFromFile(ConfigPath("llama-2-70b"));
  ASSERT_TRUE(c.ok()) << c.status();
  CompileParams p;
  p.prefill_seq_len = 128;
  p.ctx_len = 2048;
  p.num_devices = 4;  // the card's four SoCs
  auto ultra = *hw::sim::FindSku("ai100-ultra");
  auto fp16 = PlanFromConfig(*c, p, ultra);
  EXPECT_EQ(fp16.status().code(), absl::StatusCode::kResourceExhausted);
  p.mxfp6_matmul = true;
  auto mx = PlanFromConfig(*c, p, ultra);
  ASSERT_TRUE(mx.ok()) << mx.status();
  EXPECT_EQ(mx->cards, 1);
  EXPECT_NEAR(mx->calls[1].tokens_per_s, 10.2, 0.05);
}

// Qualcomm's Cloud AI 100 Ultra announcement (Nov 2023): a 100 B-parameter
// model on one card, 175 B on two. With MXFP6 weights (6.25 bits) the
// model fits 100 B on one card and needs two for 175 B; in fp16 neither.
TEST(SimPublished, UltraCapacityClaims) {
  auto ultra = *hw::sim::FindSku("ai100-ultra");
  auto fits = [&](double params, int socs, bool mxfp6) {
    hw::sim::Workload w;
    w.specialization = "Decode";
    w.batch_size = w.seq_len = 1;
    w.matmul_weight_elements = params;
    w.matmul_flops = 2 * params;
    hw::sim::Placement p;
    p.num_devices = socs;
    p.mxfp6_matmul = mxfp6;
    return hw::sim::EstimateWorkloads({w}, ultra, p).ok();
  };
  EXPECT_TRUE(fits(100e9, 4, true));
  EXPECT_FALSE(fits(100e9, 4, false));
  EXPECT_FALSE(fits(175e9, 4, true));
  EXPECT_TRUE(fits(175e9, 8, true));
}

}  // namespace
}  // namespace qeff::engine
