#include "engine/sim_plan.h"

#include <cstdio>
#include <cstdlib>

#include "gtest/gtest.h"
#include "models/test_model.h"

namespace qeff::engine {
namespace {

// The config-derived workload equals the one read from the transformed
// graph, for every family the test models have, with and without
// continuous batching and all_logits.
TEST(SimPlan, ConfigWorkloadMatchesTheGraph) {
  for (const std::string& arch : models::TestModelArchitectures()) {
    for (bool cb : {false, true}) {
      for (bool all_logits : {false, true}) {
        SCOPED_TRACE(arch + (cb ? " cb" : "") + (all_logits ? " all" : ""));
        models::TestModelSpec spec;
        spec.arch = arch;
        auto tm = models::MakeTestModel(spec);
        ASSERT_TRUE(tm.ok()) << tm.status();
        auto eager = models::BuildEager(tm->config, tm->Weights());
        ASSERT_TRUE(eager.ok()) << eager.status();
        passes::TransformLMOptions o;
        o.continuous_batching = cb;
        o.all_logits = all_logits;
        auto g = TransformLM(*eager, o);
        ASSERT_TRUE(g.ok()) << g.status();
        const auto specs =
            hw::CausalLMSpecializations(8, 32, cb ? 1 : 2, cb ? 3 : 0);
        auto from_config = WorkloadsOfConfig(tm->config, specs, all_logits);
        ASSERT_TRUE(from_config.ok()) << from_config.status();
        for (size_t i = 0; i < specs.size(); ++i) {
          auto w = hw::sim::WorkloadOfGraph(*g, specs[i]);
          ASSERT_TRUE(w.ok()) << w.status();
          const hw::sim::Workload& c = (*from_config)[i];
          EXPECT_EQ(w->batch_size, c.batch_size);
          EXPECT_EQ(w->seq_len, c.seq_len);
          EXPECT_DOUBLE_EQ(w->matmul_flops, c.matmul_flops) << specs[i].name;
          EXPECT_DOUBLE_EQ(w->matmul_weight_elements, c.matmul_weight_elements);
          EXPECT_DOUBLE_EQ(w->state_elements, c.state_elements);
          EXPECT_DOUBLE_EQ(w->state_write_fraction, c.state_write_fraction);
          EXPECT_EQ(w->layers, c.layers);
          EXPECT_EQ(w->hidden_size, c.hidden_size);
          EXPECT_DOUBLE_EQ(w->expert_weight_elements, c.expert_weight_elements);
          EXPECT_NEAR(w->expert_weight_elements_read,
                      c.expert_weight_elements_read,
                      1e-9 * c.expert_weight_elements);
          // Other constants: the graph also holds small tables (RoPE
          // frequencies, masks' constants); they stay within a few percent
          // of all constants.
          const double total =
              w->matmul_weight_elements + w->other_constant_elements;
          EXPECT_NEAR(w->other_constant_elements, c.other_constant_elements,
                      0.05 * total);
        }
      }
    }
  }
}

// The two load paths agree end to end: a Hugging Face folder loaded with
// its weights (PlanModel: the transformed graph) and its config.json alone
// (PlanFromConfig) give the same estimate, for each family.
TEST(SimPlan, PlanModelEqualsPlanFromConfig) {
  for (const std::string& arch : models::TestModelArchitectures()) {
    SCOPED_TRACE(arch);
    models::TestModelSpec spec;
    spec.arch = arch;
    const std::string dir = ::testing::TempDir() + "/plan_" + arch;
    ASSERT_TRUE(models::WriteTestModelHf(spec, dir).ok());
    FromPretrainedOptions fo;
    fo.qeff_home = ::testing::TempDir() + "/home";
    auto m = QEFFAutoModelForCausalLM::FromPretrained(dir, fo);
    ASSERT_TRUE(m.ok()) << m.status();
    auto c = ModelConfigFromFile(dir);
    ASSERT_TRUE(c.ok()) << c.status();
    CompileParams p;
    p.prefill_seq_len = 16;
    p.ctx_len = 64;
    p.mxint8_kv_cache = true;
    auto sku = *hw::sim::FindSku("ai100-standard");
    auto from_graph = PlanModel(**m, p, sku);
    auto from_config = PlanFromConfig(*c, p, sku);
    ASSERT_TRUE(from_graph.ok()) << from_graph.status();
    ASSERT_TRUE(from_config.ok()) << from_config.status();
    ASSERT_EQ(from_graph->calls.size(), from_config->calls.size());
    for (size_t i = 0; i < from_graph->calls.size(); ++i) {
      EXPECT_DOUBLE_EQ(from_graph->calls[i].flops, from_config->calls[i].flops);
      EXPECT_DOUBLE_EQ(from_graph->calls[i].ddr_bytes,
                       from_config->calls[i].ddr_bytes);
      EXPECT_NEAR(from_graph->calls[i].seconds, from_config->calls[i].seconds,
                  1e-12);
    }
    EXPECT_DOUBLE_EQ(from_graph->state_bytes, from_config->state_bytes);
  }
}

std::string ConfigPath(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::string base = srcdir && ws ? std::string(srcdir) + "/" + ws + "/" : "";
  return base + "models/configs/" + name + "/config.json";
}

TEST(SimPlan, Llama2_7bFromConfigAlone) {
  auto c = ModelConfigFromFile(ConfigPath("llama-2-7b"));
  ASSERT_TRUE(c.ok()) << c.status();
  CompileParams p;
  p.prefill_seq_len = 128;
  p.ctx_len = 1024;
  auto w = WorkloadsOfConfig(*c, PlanSpecializations(p));
  ASSERT_TRUE(w.ok()) << w.status();
  // 6.74e9 parameters in Llama-2-7B; all but the embedding table and the
  // norms are MatMul weights.
  EXPECT_NEAR((*w)[0].matmul_weight_elements + (*w)[0].other_constant_elements,
              6.738e9, 0.002e9);
  auto sku = hw::sim::FindSku("ai100-standard");
  ASSERT_TRUE(sku.ok());
  auto e = PlanFromConfig(*c, p, *sku);
  ASSERT_TRUE(e.ok()) << e.status();  // 13.5 GB fp16 fits 16 GB
  ASSERT_EQ(e->calls.size(), 2u);
  EXPECT_EQ(e->calls[0].specialization, "Prefill");
  EXPECT_EQ(e->calls[1].bound, "memory");
  // Llama-2-70B does not fit one Standard card; the error says by how much.
  auto c70 = ModelConfigFromFile(ConfigPath("llama-2-70b"));
  ASSERT_TRUE(c70.ok()) << c70.status();
  auto e70 = PlanFromConfig(*c70, p, *sku);
  EXPECT_EQ(e70.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(e70.status().message().find("short by"), std::string::npos);
  // With MXFP6 on four Ultra SoCs it fits.
  auto ultra = hw::sim::FindSku("ai100-ultra");
  p.mxfp6_matmul = true;
  p.num_devices = 4;
  auto fits = PlanFromConfig(*c70, p, *ultra);
  EXPECT_TRUE(fits.ok()) << fits.status();
}

// Grok-1 (314 B parameters, 8 experts, top-2) from its config.json alone:
// every expert is stored, a decode token computes and reads two of each
// layer's eight; it needs many SoCs.
TEST(SimPlan, Grok1FromConfigAlone) {
  auto c = ModelConfigFromFile(ConfigPath("grok-1"));
  ASSERT_TRUE(c.ok()) << c.status();
  CompileParams p;
  p.prefill_seq_len = 128;
  p.ctx_len = 8192;
  auto w = WorkloadsOfConfig(*c, PlanSpecializations(p));
  ASSERT_TRUE(w.ok()) << w.status();
  const hw::sim::Workload& prefill = (*w)[0];
  const hw::sim::Workload& decode = (*w)[1];
  const double params = prefill.matmul_weight_elements +
                        prefill.expert_weight_elements +
                        prefill.other_constant_elements;
  std::printf("grok-1: %.4g parameters, %.4g in experts\n", params,
              prefill.expert_weight_elements);
  // Experts 64 x 8 x 3 x 6144 x 32768, attention 64 x (2 x 6144^2 + 2 x
  // 6144 x 1024), routers, a tied 131072 x 6144 embedding and the norms:
  // 315.7e9 ("314B" in xai-org/grok-1's README).
  EXPECT_NEAR(params, 315.68e9, 0.01e9);
  // One expert FFN: 3 x 6144 x 32768; decode computes 2 of 8 per layer.
  const double expert = 3.0 * 6144 * 32768;
  EXPECT_DOUBLE_EQ(prefill.expert_weight_elements, 64 * 8 * expert);
  EXPECT_NEAR(decode.expert_weight_elements_read, 64 * 2 * expert,
              1e-6 * expert);
  EXPECT_LT(decode.matmul_flops, 2.0 * (params - 64 * 6 * expert) + 1e12);
  auto ultra = hw::sim::FindSku("ai100-ultra");
  ASSERT_TRUE(ultra.ok());
  auto one = PlanFromConfig(*c, p, *ultra);
  EXPECT_EQ(one.status().code(), absl::StatusCode::kResourceExhausted);
  p.mxfp6_matmul = true;
  p.num_devices = 16;  // four Ultra cards
  auto e = PlanFromConfig(*c, p, *ultra);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->cards, 4);
  std::printf("grok-1 on 4 ai100-ultra cards (mxfp6): decode %.3g tok/s\n",
              e->calls[1].tokens_per_s);
}

}  // namespace
}  // namespace qeff::engine
