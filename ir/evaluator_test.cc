#include "ir/evaluator.h"

#include <cmath>

#include "gtest/gtest.h"
#include "ir/custom_ops.h"
#include "ir/graph.h"
#include "ir/quant.h"

namespace qeff::ir {
namespace {

using Feed = absl::flat_hash_map<std::string, Tensor>;

// Runs a single node over constant inputs; returns all its outputs.
absl::StatusOr<std::vector<Tensor>> RunOp(
    const std::string& op, const std::vector<Tensor>& ins,
    std::map<std::string, Attribute> attrs = {}, int num_outputs = 1,
    const std::string& domain = "") {
  Graph g;
  std::vector<ValueId> vs;
  for (size_t i = 0; i < ins.size(); ++i)
    vs.push_back(g.AddConstant("in" + std::to_string(i), ins[i]));
  NodeId n = g.AddNode(op, vs, num_outputs, std::move(attrs), op, domain);
  for (ValueId o : g.node(n).outputs) g.AddOutput(o);
  return Evaluator::Run(g, {});
}

Tensor Run1(const std::string& op, const std::vector<Tensor>& ins,
            std::map<std::string, Attribute> attrs = {}) {
  auto r = RunOp(op, ins, std::move(attrs));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? (*r)[0] : Tensor();
}

Tensor Typed(DType t, std::vector<int64_t> dims, std::vector<double> v) {
  Tensor x = Tensor::Zeros(t, dims);
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t) {
      case DType::kF16:
        x.mutable_data<uint16_t>()[i] = FloatToHalf(v[i]);
        break;
      case DType::kI32:
        x.mutable_data<int32_t>()[i] = static_cast<int32_t>(v[i]);
        break;
      case DType::kI8:
        x.mutable_data<int8_t>()[i] = static_cast<int8_t>(v[i]);
        break;
      case DType::kU8:
      case DType::kBool:
        x.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v[i]);
        break;
      case DType::kF64:
        x.mutable_data<double>()[i] = v[i];
        break;
      case DType::kI64:
        x.mutable_data<int64_t>()[i] = static_cast<int64_t>(v[i]);
        break;
      default:
        x.mutable_data<float>()[i] = static_cast<float>(v[i]);
    }
  }
  return x;
}

void ExpectValues(const Tensor& t, std::vector<int64_t> dims,
                  std::vector<double> want, double tol = 1e-6) {
  EXPECT_EQ(t.dims(), dims);
  ASSERT_EQ(t.num_elements(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(t.GetDouble(i), want[i], tol) << "element " << i;
}

TEST(Evaluator, BroadcastAdd) {
  Tensor a = Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::F32({3}, {10, 20, 30});
  ExpectValues(Run1("Add", {a, b}), {2, 3}, {11, 22, 33, 14, 25, 36});
  Tensor c = Tensor::F32({2, 1}, {1, 2});
  ExpectValues(Run1("Mul", {b, c}), {2, 3}, {10, 20, 30, 20, 40, 60});
}

TEST(Evaluator, IntegerDivAndMod) {
  Tensor a = Typed(DType::kI32, {4}, {7, -7, 7, -7});
  Tensor b = Typed(DType::kI32, {4}, {2, 2, -2, -2});
  Tensor d = Run1("Div", {a, b});
  EXPECT_EQ(d.dtype(), DType::kI32);
  ExpectValues(d, {4}, {3, -3, -3, 3});
  ExpectValues(Run1("Mod", {a, b}), {4}, {1, 1, -1, -1});
  ExpectValues(Run1("Mod", {a, b}, {{"fmod", Attribute::Int(1)}}), {4},
               {1, -1, 1, -1});
  // int8 wraps.
  Tensor x = Typed(DType::kI8, {1}, {100});
  ExpectValues(Run1("Add", {x, x}), {1}, {-56});
}

TEST(Evaluator, F16RoundsEachOutput) {
  Tensor a = Typed(DType::kF16, {1}, {1.0});
  Tensor b = Typed(DType::kF16, {1}, {1.0 / 4096});
  Tensor r = Run1("Add", {a, b});
  EXPECT_EQ(r.dtype(), DType::kF16);
  EXPECT_EQ(r.GetDouble(0), 1.0);  // 1 + 2^-12 rounds to 1 in f16
  Tensor s = Run1("Sqrt", {Typed(DType::kF16, {1}, {2.0})});
  EXPECT_EQ(s.GetDouble(0), HalfToFloat(FloatToHalf(std::sqrt(2.0f))));
}

TEST(Evaluator, Comparisons) {
  Tensor a = Tensor::I64({3}, {1, 2, 3});
  Tensor b = Tensor::I64({}, {2});
  Tensor r = Run1("Less", {a, b});
  EXPECT_EQ(r.dtype(), DType::kBool);
  ExpectValues(r, {3}, {1, 0, 0});
  ExpectValues(Run1("Equal", {a, b}), {3}, {0, 1, 0});
  ExpectValues(Run1("GreaterOrEqual", {a, b}), {3}, {0, 1, 1});
  Tensor w = Run1("Where", {Run1("Greater", {a, b}), a, b});
  ExpectValues(w, {3}, {2, 2, 3});
}

TEST(Evaluator, MatMulBatchAndVector) {
  Tensor a = Tensor::F32({2, 2, 3}, {1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0});
  Tensor b = Tensor::F32({3, 2}, {1, 2, 3, 4, 5, 6});
  ExpectValues(Run1("MatMul", {a, b}), {2, 2, 2}, {22, 28, 49, 64, 1, 2, 3, 4});
  Tensor v = Tensor::F32({3}, {1, 1, 1});
  ExpectValues(Run1("MatMul", {v, b}), {2}, {9, 12});
  Tensor g =
      Run1("Gemm",
           {Tensor::F32({3, 2}, {1, 4, 2, 5, 3, 6}), b, Tensor::F32({1}, {1})},
           {{"transA", Attribute::Int(1)}, {"alpha", Attribute::Float(2)}});
  ExpectValues(g, {2, 2}, {45, 57, 99, 129});
}

TEST(Evaluator, ReduceSoftmax) {
  Tensor x = Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6});
  ExpectValues(Run1("ReduceMean", {x}, {{"axes", Attribute::Ints({-1})}}),
               {2, 1}, {2, 5});
  ExpectValues(
      Run1("ReduceMax", {x},
           {{"axes", Attribute::Ints({0})}, {"keepdims", Attribute::Int(0)}}),
      {3}, {4, 5, 6});
  ExpectValues(Run1("ReduceSum", {x, Tensor::I64({1}, {1})}), {2, 1}, {6, 15});
  ExpectValues(Run1("ReduceSum", {x}), {1, 1}, {21});
  ExpectValues(Run1("ReduceSum", {x, Tensor::I64({0}, {})},
                    {{"noop_with_empty_axes", Attribute::Int(1)}}),
               {2, 3}, {1, 2, 3, 4, 5, 6});
  double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  double s = e1 + e2 + e3;
  ExpectValues(Run1("Softmax", {x}), {2, 3},
               {e1 / s, e2 / s, e3 / s, e1 / s, e2 / s, e3 / s});
  ExpectValues(
      Run1("ArgMax",
           {
               Tensor::F32({2, 3}, {1, 3, 3, 9, 0, 9}),
           },
           {{"axis", Attribute::Int(1)}, {"keepdims", Attribute::Int(0)}}),
      {2}, {1, 0});
  ExpectValues(Run1("ArgMax", {Tensor::F32({2, 3}, {1, 3, 3, 9, 0, 9})},
                    {{"axis", Attribute::Int(-1)},
                     {"select_last_index", Attribute::Int(1)}}),
               {2, 1}, {2, 2});
}

TEST(Evaluator, ShapeOps) {
  Tensor x = Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6});
  ExpectValues(Run1("Reshape", {x, Tensor::I64({2}, {3, -1})}), {3, 2},
               {1, 2, 3, 4, 5, 6});
  ExpectValues(Run1("Reshape", {x, Tensor::I64({3}, {0, 1, 3})}), {2, 1, 3},
               {1, 2, 3, 4, 5, 6});
  ExpectValues(Run1("Transpose", {x}), {3, 2}, {1, 4, 2, 5, 3, 6});
  ExpectValues(Run1("Concat", {x, x}, {{"axis", Attribute::Int(-1)}}), {2, 6},
               {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  ExpectValues(
      Run1("Slice", {x, Tensor::I64({1}, {-1}), Tensor::I64({1}, {INT64_MIN}),
                     Tensor::I64({1}, {1}), Tensor::I64({1}, {-1})}),
      {2, 3}, {3, 2, 1, 6, 5, 4});
  ExpectValues(
      Run1("Slice", {x, Tensor::I64({2}, {1, 1}), Tensor::I64({2}, {2, 100})}),
      {1, 2}, {5, 6});
  ExpectValues(Run1("Gather", {x, Tensor::I64({2}, {-1, 0})}), {2, 3},
               {4, 5, 6, 1, 2, 3});
  ExpectValues(
      Run1("Gather", {x, Tensor::I64({}, {2})}, {{"axis", Attribute::Int(1)}}),
      {2}, {3, 6});
  ExpectValues(Run1("Unsqueeze", {x, Tensor::I64({2}, {0, -1})}), {1, 2, 3, 1},
               {1, 2, 3, 4, 5, 6});
  ExpectValues(Run1("Squeeze", {Tensor::F32({1, 2, 1}, {7, 8})}), {2}, {7, 8});
  ExpectValues(Run1("Expand",
                    {Tensor::F32({2, 1}, {1, 2}), Tensor::I64({3}, {2, 1, 2})}),
               {2, 2, 2}, {1, 1, 2, 2, 1, 1, 2, 2});
  ExpectValues(Run1("Range", {Tensor::I64({}, {10}), Tensor::I64({}, {4}),
                              Tensor::I64({}, {-3})}),
               {2}, {10, 7});
  ExpectValues(Run1("Shape", {x}, {{"start", Attribute::Int(-1)}}), {1}, {3});
  Tensor c = Run1("ConstantOfShape", {Tensor::I64({2}, {1, 2})},
                  {{"value", Attribute::TensorValue(Tensor::I64({1}, {5}))}});
  EXPECT_EQ(c.dtype(), DType::kI64);
  ExpectValues(c, {1, 2}, {5, 5});
  Tensor cast = Run1("Cast", {Tensor::F32({3}, {-1.7f, 0.5f, 300.0f})},
                     {{"to", Attribute::Int(DTypeToOnnx(DType::kI32))}});
  EXPECT_EQ(cast.dtype(), DType::kI32);
  ExpectValues(cast, {3}, {-1, 0, 300});
}

}  // namespace
}  // namespace qeff::ir
