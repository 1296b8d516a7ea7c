#include "passes/custom_rms_norm.h"

#include <cmath>

#include "gtest/gtest.h"
#include "ir/builder.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "ir/verifier.h"

namespace qeff::passes {
namespace {

using ir::Attribute;
using ir::DType;
using ir::Shape;

// y = w * (x * 1/sqrt(mean(x^2) + eps)), HF's LlamaRMSNorm.
ir::Graph RmsGraph(int64_t axis) {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  auto x = b.Input("x", DType::kF32, Shape({ir::Dim::Symbol("n"), 4}));
  auto w = b.Const("w", ir::Tensor::F32({4}, {1.0f, 0.5f, -2.0f, 3.0f}));
  auto sq = b.Op("Pow", {x, b.ScalarF32(2)});
  auto mean = b.Op(
      "ReduceMean", {sq},
      {{"axes", Attribute::Ints({axis})}, {"keepdims", Attribute::Int(1)}});
  auto r =
      b.Op("Reciprocal", {b.Op("Sqrt", {b.Add(mean, b.ScalarF32(1e-5f))})});
  auto y = b.Mul(w, b.Mul(x, r), "norm");
  g.AddOutput(y);
  EXPECT_TRUE(ir::InferShapes(g).ok());
  return g;
}

int Count(const ir::Graph& g, absl::string_view op) {
  int n = 0;
  for (auto id : g.LiveNodes()) n += g.node(id).op_type == op;
  return n;
}

TEST(CustomRMSNormFusion, FusesAndKeepsNumbers) {
  ir::Graph g = RmsGraph(-1);
  ir::Graph before = g;
  CustomRMSNormFusion pass;
  auto changed = pass.Run(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  ASSERT_TRUE(ir::InferShapes(g).ok());
  ASSERT_TRUE(ir::VerifyGraph(g).ok()) << ir::VerifyGraph(g);
  EXPECT_EQ(Count(g, "CustomRMSNorm"), 1);
  EXPECT_EQ(Count(g, "Pow"), 0);
  EXPECT_EQ(Count(g, "ReduceMean"), 0);
  EXPECT_EQ(g.value(g.outputs()[0]).name, "norm");
  ir::Tensor x = ir::Tensor::F32({2, 4}, {1, 2, 3, 4, -0.5f, 0.25f, 8, 0});
  auto a = ir::Evaluator::Run(before, {{"x", x}});
  auto c = ir::Evaluator::Run(g, {{"x", x}});
  ASSERT_TRUE(a.ok() && c.ok());
  for (int i = 0; i < 8; ++i)
    EXPECT_NEAR((*a)[0].GetDouble(i), (*c)[0].GetDouble(i), 1e-6);
}

TEST(CustomRMSNormFusion, LeavesOtherAxesAlone) {
  ir::Graph g = RmsGraph(0);
  CustomRMSNormFusion pass;
  auto changed = pass.Run(g);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(Count(g, "CustomRMSNorm"), 0);
}

}  // namespace
}  // namespace qeff::passes
