// The cpu driver's Conv against the reference driver (the evaluator's
// double-precision Conv, itself checked by ONNX's Conv node tests in
// //tests:onnx_conformance_test): strides, dilation, asymmetric padding,
// groups, bias and a symbolic input length bound by two specializations.
#include <cmath>

#include "gtest/gtest.h"
#include "hw/cpu/cpu_driver.h"
#include "hw/reference_driver.h"
#include "ir/builder.h"
#include "ir/op_schema.h"

namespace qeff::hw {
namespace {

ir::Graph ConvGraph(bool bias) {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  ir::ValueId x = b.Input("x", ir::DType::kF32,
                          ir::Shape({2, 4, ir::Dim::Symbol("seq_len")}));
  std::vector<float> w(6 * 2 * 3), bv(6);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.7 * i) * 0.5f;
  for (size_t i = 0; i < bv.size(); ++i) bv[i] = 0.1f * i - 0.2f;
  std::vector<ir::ValueId> ins = {x,
                                  b.Const("w", ir::Tensor::F32({6, 2, 3}, w))};
  if (bias) ins.push_back(b.Const("b", ir::Tensor::F32({6}, bv)));
  ir::ValueId y = b.Op("Conv", ins,
                       {{"strides", ir::Attribute::Ints({3})},
                        {"dilations", ir::Attribute::Ints({2})},
                        {"pads", ir::Attribute::Ints({2, 1})},
                        {"group", ir::Attribute::Int(2)}},
                       "y");
  g.AddOutput(y);
  EXPECT_TRUE(ir::InferShapes(g).ok());
  return g;
}

TEST(CpuConv, MatchesReference) {
  for (bool bias : {true, false}) {
    ir::Graph g = ConvGraph(bias);
    // Output length floor((L + 3 - 5) / 3) + 1.
    EXPECT_EQ(g.value(g.outputs()[0]).type.shape.ToString(),
              "[2, 6, (((seq_len + -2) // 3) + 1)]");
    std::vector<Specialization> specs = {{"short", {{"seq_len", 7}}},
                                         {"long", {{"seq_len", 31}}}};
    auto cpu = OpenCpuDevice("cpu");
    ASSERT_TRUE(cpu.ok()) << cpu.status();
    auto ref = MakeReferenceDevice();
    auto cp = (*cpu)->Compile(g, specs, {});
    ASSERT_TRUE(cp.ok()) << cp.status();
    auto rp = ref->Compile(g, specs, {});
    ASSERT_TRUE(rp.ok()) << rp.status();
    auto cs = (*cpu)->Load(*cp);
    auto rs = ref->Load(*rp);
    ASSERT_TRUE(cs.ok() && rs.ok());
    for (auto [name, len] :
         {std::pair<const char*, int64_t>{"short", 7}, {"long", 31}}) {
      std::vector<float> x(2 * 4 * len);
      for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.3 * i);
      TensorMap in = {{"x", ir::Tensor::F32({2, 4, len}, x)}};
      auto a = (*cs)->Run(name, in);
      auto r = (*rs)->Run(name, in);
      ASSERT_TRUE(a.ok()) << a.status();
      ASSERT_TRUE(r.ok()) << r.status();
      const ir::Tensor& ya = a->at("y");
      const ir::Tensor& yr = r->at("y");
      ASSERT_EQ(ya.dims(), yr.dims());
      EXPECT_EQ(ya.dims()[2], (len + 3 - 5) / 3 + 1);
      for (int64_t i = 0; i < yr.num_elements(); ++i)
        EXPECT_NEAR(ya.GetDouble(i), yr.GetDouble(i), 1e-5) << name << " " << i;
    }
  }
}

TEST(CpuConv, RejectsTwoDimensionalConv) {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  ir::ValueId x = b.Input("x", ir::DType::kF32, ir::Shape({1, 1, 4, 4}));
  g.AddOutput(b.Op(
      "Conv", {x, b.Const("w", ir::Tensor::F32({1, 1, 2, 2}, {1, 1, 1, 1}))},
      {}, "y"));
  ASSERT_TRUE(ir::InferShapes(g).ok());
  auto cpu = OpenCpuDevice("cpu");
  ASSERT_TRUE(cpu.ok());
  auto cp = (*cpu)->Compile(g, {{"s", {{"unused", 1}}}}, {});
  ASSERT_FALSE(cp.ok());
  EXPECT_NE(std::string(cp.status().message()).find("1-D"), std::string::npos)
      << cp.status();
}

}  // namespace
}  // namespace qeff::hw
