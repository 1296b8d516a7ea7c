// Structural and numeric tests of the export-side passes: constant folding
// and FP16 clipping.
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ir/builder.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "ir/quant.h"
#include "passes/constant_fold.h"
#include "passes/fp16_clip.h"
#include "passes/pipelines.h"

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

// Export's folding (max_input_bytes = kExportFoldMaxInputBytes) leaves a
// large weight's Cast and Transpose as nodes over the stored f16 weight and
// still folds a small one.
TEST(ConstantFolding, ExportLeavesLargeWeightConversionsAsNodes) {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  const int64_t big = 1024, small = 8;  // 1024 x 1024 f16: 2 MiB
  auto x = b.Input("x", DType::kF32, Shape({1, big}));
  auto xs = b.Input("xs", DType::kF32, Shape({1, small}));
  auto weight = [&](int64_t n, const char* name) {
    ir::Tensor h = ir::Tensor::Zeros(DType::kF16, {n, n});
    for (int64_t i = 0; i < n * n; ++i)
      h.mutable_data<uint16_t>()[i] = ir::FloatToHalf(0.001f * (i % 97));
    auto c = b.Op("Cast", {b.Const(name, h)},
                  {{"to", Attribute::Int(ir::DTypeToOnnx(DType::kF32))}},
                  absl::StrCat(name, ".f32"));
    return b.Transpose(c, {1, 0}, absl::StrCat(name, "_t"));
  };
  g.AddOutput(b.MatMul(x, weight(big, "w_big"), "y"));
  g.AddOutput(b.MatMul(xs, weight(small, "w_small"), "ys"));
  ASSERT_TRUE(ir::InferShapes(g).ok());
  ir::Graph before = g;
  PassPipeline p;
  AddExportPipeline(p, /*fp16_clip=*/false);
  ASSERT_TRUE(p.Run(g).ok());
  g.RemoveDeadCode();
  EXPECT_EQ(Live(g, "Cast"), 1);
  EXPECT_EQ(Live(g, "Transpose"), 1);
  for (auto id : g.LiveNodes()) {
    const ir::Node& n = g.node(id);
    if (n.op_type != "Cast") continue;
    const ir::Value& w = g.value(n.inputs[0]);
    ASSERT_TRUE(w.is_constant());
    EXPECT_EQ(w.constant->dtype(), DType::kF16);
    EXPECT_EQ(w.constant->num_elements(), big * big);
  }
  std::vector<float> ones(big, 1.0f), ones_s(small, 1.0f);
  absl::flat_hash_map<std::string, ir::Tensor> in = {
      {"x", ir::Tensor::F32({1, big}, ones)},
      {"xs", ir::Tensor::F32({1, small}, ones_s)}};
  auto a = ir::Evaluator::Run(before, in);
  auto c = ir::Evaluator::Run(g, in);
  ASSERT_TRUE(a.ok() && c.ok());
  for (int o = 0; o < 2; ++o)
    for (int64_t i = 0; i < (*a)[o].num_elements(); ++i)
      EXPECT_EQ((*a)[o].GetDouble(i), (*c)[o].GetDouble(i));
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
