// The MoE custom op (ir/custom_ops.h): the evaluator kernel against a
// hand-computed case, and against its exported ONNX function body (inlined
// on import, standard ops only, run by the evaluator) for every attribute
// combination (scoring, norm_topk_prob, score_on_input, activation SiLU /
// GELU / GELU-tanh), ranks 2 and 3, top_k 1..E; plus malformed input
// errors.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ir/custom_ops.h"
#include "ir/evaluator.h"
#include "ir/graph.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"

namespace qeff::ir {
namespace {

Tensor Rand(std::vector<int64_t> dims, uint32_t seed, float scale = 1.0f) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<float> v(n);
  uint32_t x = seed * 2654435761u + 7;
  for (auto& f : v) {
    x = x * 1664525u + 1013904223u;
    f = scale * (static_cast<float>((x >> 8) % 2001) / 1000.0f - 1.0f);
  }
  return Tensor::F32(std::move(dims), v);
}

Graph MoEGraph(const std::vector<std::pair<std::string, Tensor>>& inputs,
               std::map<std::string, Attribute> attrs) {
  Graph g;
  std::vector<ValueId> ins;
  for (const auto& [name, t] : inputs) {
    std::vector<Dim> dims(t.dims().begin(), t.dims().end());
    ins.push_back(g.AddInput(name, {t.dtype(), Shape(dims)}));
  }
  NodeId n = g.AddNode(std::string(kMoEOp), ins, 1, std::move(attrs), "moe",
                       std::string(kQaicDomain));
  ValueId out = g.node(n).outputs[0];
  g.value(out).name = "out";
  const Tensor& x = inputs[0].second;
  std::vector<Dim> od(x.dims().begin(), x.dims().end());
  g.value(out).type = {DType::kF32, Shape(od)};
  g.AddOutput(out);
  return g;
}

absl::StatusOr<Tensor> RunNative(
    const std::vector<std::pair<std::string, Tensor>>& inputs,
    std::map<std::string, Attribute> attrs) {
  Graph g = MoEGraph(inputs, std::move(attrs));
  absl::flat_hash_map<std::string, Tensor> feed;
  for (const auto& [n, t] : inputs) feed[n] = t;
  auto r = Evaluator::Run(g, feed);
  if (!r.ok()) return r.status();
  return (*r)[0];
}

TEST(MoE, HandComputedTwoExperts) {
  // H = F = 1, E = 3, k = 2. Expert e: gate = up = 1, down = e + 1, so
  // FFN_e(u) = (e + 1) * silu(u) * u.
  auto silu = [](double v) { return v / (1 + std::exp(-v)); };
  const double xv = 0.5;
  const std::vector<float> logits = {0.3f, 1.2f, -0.4f};  // picks 1 then 0
  auto in = [&]() {
    return std::vector<std::pair<std::string, Tensor>>{
        {"x", Tensor::F32({1, 1}, {static_cast<float>(xv)})},
        {"router_logits", Tensor::F32({1, 3}, logits)},
        {"gate", Tensor::F32({3, 1, 1}, {1, 1, 1})},
        {"up", Tensor::F32({3, 1, 1}, {1, 1, 1})},
        {"down", Tensor::F32({3, 1, 1}, {1, 2, 3})}};
  };
  double z = std::exp(0.3) + std::exp(1.2) + std::exp(-0.4);
  double s1 = std::exp(1.2) / z, s0 = std::exp(0.3) / z;
  double ffn = silu(xv) * xv;
  // softmax, no renormalisation.
  auto y = RunNative(in(), {{"top_k", Attribute::Int(2)}});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_NEAR(y->data<float>()[0], s1 * 2 * ffn + s0 * 1 * ffn, 1e-7);
  // renormalised (Mixtral).
  y = RunNative(in(), {{"top_k", Attribute::Int(2)},
                       {"norm_topk_prob", Attribute::Int(1)}});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_NEAR(y->data<float>()[0], (s1 * 2 + s0) / (s1 + s0) * ffn, 1e-7);
  // sigmoid scores applied to the input (Llama 4 style), k = 1.
  y = RunNative(in(), {{"top_k", Attribute::Int(1)},
                       {"scoring", Attribute::Int(1)},
                       {"score_on_input", Attribute::Int(1)}});
  ASSERT_TRUE(y.ok()) << y.status();
  const double w = 1 / (1 + std::exp(-1.2));
  EXPECT_NEAR(y->data<float>()[0], 2 * silu(w * xv) * (w * xv), 1e-7);
}

// Stacks in the cpu driver's packed layout (packed_experts = 1) are not
// read by the evaluator: a named error, not a wrong result.
TEST(MoE, RefusesPackedExpertStacks) {
  auto y = RunNative(
      {{"x", Tensor::F32({1, 1}, {0.5f})},
       {"router_logits", Tensor::F32({1, 2}, {0.1f, 0.9f})},
       {"gate", Tensor::F32({2, 1, 1}, {1, 1})},
       {"up", Tensor::F32({2, 1, 1}, {1, 1})},
       {"down", Tensor::F32({2, 1, 1}, {1, 3})}},
      {{"top_k", Attribute::Int(1)}, {"packed_experts", Attribute::Int(1)}});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(std::string(y.status().message()).find("packed_experts"),
            std::string::npos)
      << y.status();
}

TEST(MoE, GeluActivations) {
  // H = F = 1, E = 2, k = 1: expert 1 (gate = up = 1, down = 3) is picked
  // with softmax weight s; FFN(u) = 3 * act(u) * u.
  const double xv = -0.7;
  auto in = [&]() {
    return std::vector<std::pair<std::string, Tensor>>{
        {"x", Tensor::F32({1, 1}, {static_cast<float>(xv)})},
        {"router_logits", Tensor::F32({1, 2}, {0.1f, 0.9f})},
        {"gate", Tensor::F32({2, 1, 1}, {1, 1})},
        {"up", Tensor::F32({2, 1, 1}, {1, 1})},
        {"down", Tensor::F32({2, 1, 1}, {1, 3})}};
  };
  const double s = std::exp(0.9) / (std::exp(0.1) + std::exp(0.9));
  const double erf_gelu = 0.5 * xv * (1 + std::erf(xv / std::sqrt(2.0)));
  const double tanh_gelu =
      0.5 * xv *
      (1 + std::tanh(std::sqrt(2 / M_PI) * (xv + 0.044715 * xv * xv * xv)));
  EXPECT_GT(std::fabs(erf_gelu - tanh_gelu), 1e-5);  // the forms differ
  for (int act = 1; act <= 2; ++act) {
    auto y = RunNative(in(), {{"top_k", Attribute::Int(1)},
                              {"activation", Attribute::Int(act)}});
    ASSERT_TRUE(y.ok()) << y.status();
    EXPECT_NEAR(y->data<float>()[0],
                s * 3 * (act == 1 ? erf_gelu : tanh_gelu) * xv, 1e-7)
        << "activation " << act;
  }
  auto bad = RunNative(
      in(), {{"top_k", Attribute::Int(1)}, {"activation", Attribute::Int(3)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("activation 3"), std::string::npos)
      << bad.status();
}

TEST(MoE, OnnxFunctionBodyMatchesKernel) {
  const int64_t E = 4, F = 6, H = 8;
  for (int rank3 = 0; rank3 < 2; ++rank3) {
    for (int64_t k = 1; k <= E; ++k) {
      for (int combo = 0; combo < 24; ++combo) {
        const std::string label =
            absl::StrCat("r", rank3 ? 3 : 2, "_k", k, "_c", combo);
        SCOPED_TRACE(label);
        std::vector<int64_t> lead =
            rank3 ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{5};
        std::vector<int64_t> xd = lead, ld = lead;
        xd.push_back(H);
        ld.push_back(E);
        std::vector<std::pair<std::string, Tensor>> in = {
            {"x", Rand(xd, 1)},
            {"router_logits", Rand(ld, 2, 3.0f)},
            {"gate", Rand({E, F, H}, 3, 0.5f)},
            {"up", Rand({E, F, H}, 4, 0.5f)},
            {"down", Rand({E, H, F}, 5, 0.5f)}};
        std::map<std::string, Attribute> attrs = {
            {"top_k", Attribute::Int(k)},
            {"scoring", Attribute::Int(combo & 1)},
            {"norm_topk_prob", Attribute::Int((combo >> 1) & 1)},
            {"score_on_input", Attribute::Int((combo >> 2) & 1)},
            {"activation", Attribute::Int(combo >> 3)}};
        Graph g = MoEGraph(in, attrs);
        absl::flat_hash_map<std::string, Tensor> feed;
        for (const auto& [n, t] : in) feed[n] = t;
        auto native = Evaluator::Run(g, feed);
        ASSERT_TRUE(native.ok()) << native.status();
        const std::string path =
            absl::StrCat(::testing::TempDir(), "/moe_", label, ".onnx");
        ASSERT_TRUE(ExportOnnx(g, path).ok());
        ImportOptions opt;
        opt.inline_functions = true;
        auto inlined = ImportOnnx(path, opt);
        ASSERT_TRUE(inlined.ok()) << inlined.status();
        for (NodeId id : inlined->LiveNodes())
          ASSERT_TRUE(inlined->node(id).domain.empty());
        auto dec = Evaluator::Run(*inlined, feed);
        ASSERT_TRUE(dec.ok()) << dec.status();
        const Tensor& a = (*native)[0];
        const Tensor& b = (*dec)[0];
        ASSERT_EQ(a.dims(), b.dims());
        double diff = 0, scale = 0;
        for (int64_t i = 0; i < a.num_elements(); ++i) {
          diff = std::max(
              diff, std::fabs(double(a.data<float>()[i]) - b.data<float>()[i]));
          scale = std::max(scale, std::fabs(double(a.data<float>()[i])));
        }
        EXPECT_GT(scale, 0);
        EXPECT_LE(diff, 1e-5 * scale);
      }
    }
  }
}

TEST(MoE, BadInputIsAnError) {
  std::vector<std::pair<std::string, Tensor>> in = {
      {"x", Rand({2, 8}, 1)},
      {"router_logits", Rand({2, 4}, 2)},
      {"gate", Rand({4, 6, 8}, 3)},
      {"up", Rand({4, 6, 8}, 4)},
      {"down", Rand({4, 8, 6}, 5)}};
  auto y = RunNative(in, {{"top_k", Attribute::Int(5)}});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("top_k 5"), std::string::npos)
      << y.status();
  in[4].second = Rand({4, 6, 8}, 5);
  y = RunNative(in, {{"top_k", Attribute::Int(2)}});
  EXPECT_FALSE(y.ok());
}

}  // namespace
}  // namespace qeff::ir
