// transform_lm: structural checks on the graph text and numeric checks on
// the reference evaluator — a tiny GQA Llama, with and without continuous
// batching.
#include "passes/transform_lm.h"

#include <cmath>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "hw/reference_driver.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "ir/text_format.h"
#include "ir/verifier.h"
#include "models/arch/llama.h"
#include "models/arch/registry.h"
#include "models/test_model.h"

namespace qeff::passes {
namespace {

ir::Graph TinyEager(int layers = 2) {
  models::TestModelSpec spec;
  spec.hidden_size = 16;
  spec.intermediate_size = 32;
  spec.num_hidden_layers = layers;
  spec.num_attention_heads = 4;
  spec.num_key_value_heads = 2;
  models::LlamaConfig c;
  models::WeightMap w = models::MakeTestWeights(spec, &c);
  auto g = models::BuildLlamaEager(c, w);
  EXPECT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(ir::InferShapes(*g).ok());
  return *std::move(g);
}

ir::Graph Transformed(const ir::Graph& eager, TransformLMOptions o) {
  ir::Graph g = eager;
  TransformLM t(o);
  auto changed = t.Run(g);
  EXPECT_TRUE(changed.ok()) << changed.status();
  absl::Status s = ir::InferShapes(g);
  EXPECT_TRUE(s.ok()) << s;
  s = ir::VerifyGraph(g);
  EXPECT_TRUE(s.ok()) << s;
  return g;
}

int CountOps(const ir::Graph& g, absl::string_view op) {
  int n = 0;
  for (auto id : g.LiveNodes()) n += g.node(id).op_type == op;
  return n;
}

std::string Lines(const std::string& text, absl::string_view needle) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (absl::StrContains(line, needle)) out += line + "\n";
    pos = end + 1;
  }
  return out;
}

TEST(TransformLM, RetainedStateContract) {
  ir::Graph g = Transformed(TinyEager(), {});
  ir::PrintOptions po;
  po.elide_large_tensors = true;
  std::string text = ir::PrintGraph(g, po);
  // Graph I/O in QEfficient's contract, symbols kept.
  EXPECT_TRUE(absl::StrContains(text, "%input_ids: i64[batch_size, seq_len]"))
      << text;
  EXPECT_TRUE(
      absl::StrContains(text, "%position_ids: i64[batch_size, seq_len]"));
  for (const char* s :
       {"past_key.0", "past_value.0", "past_key.1", "past_value.1"}) {
    EXPECT_TRUE(absl::StrContains(
        text, std::string("%") + s + ": f32[batch_size, 2, ctx_len, 4]"))
        << s << "\n"
        << Lines(text, "input");
  }
  ASSERT_EQ(g.outputs().size(), 5u);
  EXPECT_EQ(g.value(g.outputs()[0]).name, "logits");
  EXPECT_EQ(g.value(g.outputs()[0]).type.shape.ToString(),
            "[batch_size, 1, " +
                std::to_string(models::MakeTestVocab().pieces.size()) + "]");
  EXPECT_EQ(g.value(g.outputs()[1]).name, "past_key.0_RetainedState");
  EXPECT_EQ(g.value(g.outputs()[4]).name, "past_value.1_RetainedState");
  // One scatter and one gather per cache tensor; no eager [S, S] mask left.
  EXPECT_EQ(CountOps(g, "CtxScatter"), 4);
  EXPECT_EQ(CountOps(g, "CtxGather"), 4);
  EXPECT_EQ(Lines(text, "com.qualcomm.cloud.CtxScatter").size() > 0, true);
  EXPECT_FALSE(absl::StrContains(text, "model.causal_mask"));
  EXPECT_EQ(CountOps(g, "ArgMax"), 1);
}

TEST(TransformLM, RejectsGraphsItCannotHandle) {
  ir::Graph done = Transformed(TinyEager(1), {});
  TransformLM t;
  EXPECT_FALSE(t.Run(done).ok());  // already transformed
  ir::Graph g;
  g.AddInput("input_ids", {ir::DType::kI64, ir::Shape({1, 1})});
  auto r = t.Run(g);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "position_ids"))
      << r.status();
  // A key of the wrong rank: the error names the node that produced it.
  ir::Graph bad = TinyEager(1);
  for (ir::ValueId v = 0; v < bad.num_values(); ++v) {
    if (bad.value(v).name == ir::LmRoles::KeyRot(0))
      bad.value(v).type.shape = ir::Shape({4});
  }
  auto e = t.Run(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(absl::StrContains(e.status().message(),
                                "Add 'model.layers.0.self_attn.k_rot'"))
      << e.status();
}

// A chunked-attention graph (Llama 4): the eager chunk mask becomes the
// cache-slot mask `model.chunk_mask`, which the chunked layers' Where read;
// a graph with the mask but no chunk constant is refused by name.
TEST(TransformLM, ChunkedMaskOverCacheSlots) {
  models::TestModelSpec spec;
  spec.arch = "llama4_text";
  auto tm = models::MakeTestModel(spec);
  ASSERT_TRUE(tm.ok()) << tm.status();
  auto eager = models::BuildEager(tm->config, tm->Weights());
  ASSERT_TRUE(eager.ok()) << eager.status();
  ASSERT_TRUE(ir::InferShapes(*eager).ok());
  ir::Graph g = Transformed(*eager, {});
  int chunked_wheres = 0;
  for (ir::ValueId v = 0; v < g.num_values(); ++v) {
    if (g.value(v).name == ir::LmRoles::kChunkedMask)
      EXPECT_TRUE(g.value(v).uses.empty());  // replaced (a dead value)
    if (g.value(v).name != "model.chunk_mask") continue;
    for (const ir::Use& u : g.value(v).uses)
      chunked_wheres += g.node(u.node).op_type == "Where";
  }
  EXPECT_EQ(chunked_wheres, 3);  // layers 0, 1 and 2; layer 3 is NoPE
  ir::Graph bad = *eager;
  for (ir::ValueId v = 0; v < bad.num_values(); ++v) {
    if (bad.value(v).name == ir::LmRoles::kAttentionChunk)
      bad.value(v).name = "renamed";
  }
  TransformLM t;
  auto r = t.Run(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "model.attention_chunk"))
      << r.status();
}

// Continuous batching: sequences prefilled into cache rows 2 and 0 of a
// 3-row cache, then decoded together in one batch with an idle row, give
// the same logits as each sequence run alone without continuous batching.
TEST(TransformLM, ContinuousBatchingMatchesSoloRuns) {
  ir::Graph eager = TinyEager();
  ir::Graph cb = Transformed(eager, {.continuous_batching = true});
  EXPECT_EQ(CountOps(cb, "CtxScatterCB"), 4);
  EXPECT_EQ(CountOps(cb, "CtxGatherCB"), 4);
  EXPECT_EQ(cb.value(*cb.FindInput("past_key.0")).type.shape.ToString(),
            "[full_batch_size, 2, ctx_len, 4]");
  ir::Graph solo = Transformed(eager, {});
  auto dev = hw::MakeReferenceDevice();
  const int64_t ctx = 12;
  auto cb_prog = dev->Compile(cb,
                              {{"Prefill",
                                {{"batch_size", 1},
                                 {"seq_len", 4},
                                 {"ctx_len", ctx},
                                 {"full_batch_size", 3}}},
                               {"Decode",
                                {{"batch_size", 3},
                                 {"seq_len", 1},
                                 {"ctx_len", ctx},
                                 {"full_batch_size", 3}}}},
                              {});
  ASSERT_TRUE(cb_prog.ok()) << cb_prog.status();
  auto solo_prog =
      dev->Compile(solo, hw::PrefillDecodeSpecializations(1, 4, ctx), {});
  ASSERT_TRUE(solo_prog.ok()) << solo_prog.status();
  auto cb_s = dev->Load(*cb_prog);
  ASSERT_TRUE(cb_s.ok());

  const std::vector<std::vector<int64_t>> prompts = {{5, 9, 30, 7, 11},
                                                     {42, 3, 17}};
  const int64_t slots[2] = {2, 0};
  // Solo reference: prefill (chunks of 4) + one decode step with token 100.
  std::vector<ir::Tensor> solo_prefill, solo_decode;
  for (const auto& p : prompts) {
    auto s = dev->Load(*solo_prog);
    ASSERT_TRUE(s.ok());
    hw::TensorMap out;
    for (size_t start = 0; start < p.size(); start += 4) {
      std::vector<int64_t> ids(4, 0), pos(4, -1);
      for (size_t j = 0; j < 4 && start + j < p.size(); ++j) {
        ids[j] = p[start + j];
        pos[j] = static_cast<int64_t>(start + j);
      }
      auto o = (*s)->Run("Prefill",
                         {{"input_ids", ir::Tensor::I64({1, 4}, ids)},
                          {"position_ids", ir::Tensor::I64({1, 4}, pos)}});
      ASSERT_TRUE(o.ok()) << o.status();
      out = *o;
    }
    solo_prefill.push_back(out.at("logits"));
    auto d = (*s)->Run(
        "Decode",
        {{"input_ids", ir::Tensor::I64({1, 1}, {100})},
         {"position_ids",
          ir::Tensor::I64({1, 1}, {static_cast<int64_t>(p.size())})}});
    ASSERT_TRUE(d.ok()) << d.status();
    solo_decode.push_back(d->at("logits"));
  }
  auto close = [](const ir::Tensor& a, const ir::Tensor& b, int64_t row_b) {
    int64_t v = a.dims().back();
    double worst = 0;
    for (int64_t j = 0; j < v; ++j)
      worst = std::max(worst,
                       std::fabs(a.GetDouble(j) - b.GetDouble(row_b * v + j)));
    return worst;
  };
  // CB: prefill each prompt into its slot.
  for (int k = 0; k < 2; ++k) {
    const auto& p = prompts[k];
    hw::TensorMap out;
    for (size_t start = 0; start < p.size(); start += 4) {
      std::vector<int64_t> ids(4, 0), pos(4, -1);
      for (size_t j = 0; j < 4 && start + j < p.size(); ++j) {
        ids[j] = p[start + j];
        pos[j] = static_cast<int64_t>(start + j);
      }
      auto o = (*cb_s)->Run(
          "Prefill", {{"input_ids", ir::Tensor::I64({1, 4}, ids)},
                      {"position_ids", ir::Tensor::I64({1, 4}, pos)},
                      {"batch_index", ir::Tensor::I64({1, 1}, {slots[k]})}});
      ASSERT_TRUE(o.ok()) << o.status();
      out = *o;
    }
    EXPECT_LE(close(solo_prefill[k], out.at("logits"), 0), 1e-6);
  }
  // One decode step for both, row 1 idle (position -1, its own cache row 1).
  auto d = (*cb_s)->Run("Decode",
                        {{"input_ids", ir::Tensor::I64({3, 1}, {100, 0, 100})},
                         {"position_ids", ir::Tensor::I64({3, 1}, {5, -1, 3})},
                         {"batch_index", ir::Tensor::I64({3, 1}, {2, 1, 0})}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_LE(close(solo_decode[0], d->at("logits"), 0), 1e-6);
  EXPECT_LE(close(solo_decode[1], d->at("logits"), 2), 1e-6);
}

}  // namespace
}  // namespace qeff::passes
