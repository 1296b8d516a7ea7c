// Structural and numeric tests of the export-side passes: constant folding
// and FP16 clipping.
#include <cmath>

#include "gtest/gtest.h"
#include "ir/builder.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "ir/quant.h"
#include "passes/constant_fold.h"
#include "passes/fp16_clip.h"

namespace qeff::passes {
namespace {

using ir::Attribute;
using ir::DType;
using ir::Shape;

int Live(const ir::Graph& g, absl::string_view op) {
  int n = 0;
  for (auto id : g.LiveNodes()) n += g.node(id).op_type == op;
  return n;
}

TEST(ConstantFolding, FoldsConstantSubgraphsAndStaticShapes) {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  auto x = b.Input("x", DType::kF32, Shape({2, 3}));
  auto w = b.Const("w", ir::Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6}));
  auto y = b.MatMul(x, b.Transpose(w, {1, 0}, "w_t"), "y");
  auto shape = b.Op("Shape", {y}, {}, "y_shape");
  auto z = b.Op("Reshape", {y, shape}, {}, "z");
  // A blow-up that must stay symbolic: Expand a scalar to 1M elements.
  auto big =
      b.Op("Expand", {b.ScalarF32(1), b.ConstI64({1000, 1000})}, {}, "big");
  g.AddOutput(z);
  g.AddOutput(big);
  absl::Status inferred = ir::InferShapes(g);
  ASSERT_TRUE(inferred.ok()) << inferred;
  ir::Graph before = g;
  ConstantFolding fold;
  auto changed = fold.Run(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(Live(g, "Transpose"), 0);
  EXPECT_EQ(Live(g, "Shape"), 0);
  EXPECT_EQ(Live(g, "Expand"), 1);
  ir::Tensor in = ir::Tensor::F32({2, 3}, {0.5f, -1, 2, 3, 0, 1});
  auto a = ir::Evaluator::Run(before, {{"x", in}});
  auto c = ir::Evaluator::Run(g, {{"x", in}});
  ASSERT_TRUE(a.ok() && c.ok());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ((*a)[0].GetDouble(i), (*c)[0].GetDouble(i));
}

// A block-quantized weight is not folded (the IR kernels read plain
// tensors: a Transpose of a Q8_0 weight once read past its bytes and
// crashed `infer` on Q8_0 GGUF files); the graph still evaluates.
TEST(ConstantFolding, LeavesQuantizedWeightsAlone) {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  auto x = b.Input("x", DType::kF32, Shape({2, 64}));
  std::vector<float> wv(2 * 64);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = 0.01f * (i % 17) - 0.05f;
  auto q = ir::Quantize(ir::Tensor::F32({2, 64}, wv), ir::QuantFormat::kQ8_0);
  ASSERT_TRUE(q.ok()) << q.status();
  auto w = b.Const("w", *q);
  auto y = b.MatMul(x, b.Transpose(w, {1, 0}, "w_t"), "y");
  g.AddOutput(y);
  ASSERT_TRUE(ir::InferShapes(g).ok());
  ConstantFolding fold;
  auto changed = fold.Run(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(Live(g, "Transpose"), 1);
  auto r = ir::Evaluator::Run(
      g, {{"x", ir::Tensor::F32({2, 64}, std::vector<float>(128, 1.0f))}});
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(FP16Clip, ClampsFiniteOutOfRangeKeepsInf) {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  auto x = b.Input("x", DType::kF32, Shape({3}));
  auto c = b.Const("c", ir::Tensor::F32({3}, {1e6f, -INFINITY, -7e4f}));
  auto keep = b.Const("k", ir::Tensor::F32({1}, {2.0f}));
  g.AddOutput(b.Add(b.Mul(x, keep), c));
  const uint8_t* untouched = g.value(keep).constant->raw();
  FP16Clip clip;
  auto changed = clip.Run(g);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  const ir::Tensor& t = *g.value(c).constant;
  EXPECT_EQ(t.GetDouble(0), 65504.0);
  EXPECT_TRUE(std::isinf(t.GetDouble(1)) && t.GetDouble(1) < 0);
  EXPECT_EQ(t.GetDouble(2), -65504.0);
  EXPECT_EQ(g.value(keep).constant->raw(), untouched);
  auto again = clip.Run(g);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

}  // namespace
}  // namespace qeff::passes
