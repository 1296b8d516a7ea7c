#include "ir/evaluator.h"

#include <cmath>

#include "gtest/gtest.h"
#include "ir/custom_ops.h"
#include "ir/graph.h"
#include "ir/op_schema.h"
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
  for (size_t i = 0; i < ins.size(); ++i) {
    // A default Tensor() (no storage) stands for an omitted optional input.
    vs.push_back(ins[i].has_storage()
                     ? g.AddConstant("in" + std::to_string(i), ins[i])
                     : kNoValue);
  }
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

TEST(Evaluator, EveryRequiredOpHasAKernel) {
  for (const std::string& op : RequiredOnnxOps())
    EXPECT_NE(FindKernel("", op), nullptr) << op;
  for (const char* op :
       {"CtxScatter", "CtxGather", "CtxScatterCB", "CtxGatherCB"})
    EXPECT_NE(FindKernel(kQaicDomain, op), nullptr) << op;
  EXPECT_NE(FindKernel(kQtiDomain, "CustomRMSNorm"), nullptr);
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

TEST(Evaluator, MoreOps) {
  // LayerNormalization with Mean / InvStdDev outputs.
  auto ln = RunOp("LayerNormalization",
                  {Tensor::F32({2, 2}, {1, 3, 2, 4}), Tensor::F32({2}, {1, 2}),
                   Tensor::F32({2}, {0, 1})},
                  {{"epsilon", Attribute::Float(0)}}, 3);
  ASSERT_TRUE(ln.ok()) << ln.status();
  ExpectValues((*ln)[0], {2, 2}, {-1, 3, -1, 3});
  ExpectValues((*ln)[1], {2, 1}, {2, 3});
  ExpectValues((*ln)[2], {2, 1}, {1, 1});
  // TopK: ties keep the lower index first.
  auto tk =
      RunOp("TopK", {Tensor::F32({5}, {1, 3, 2, 3, 0}), Tensor::I64({1}, {3})},
            {}, 2);
  ASSERT_TRUE(tk.ok()) << tk.status();
  ExpectValues((*tk)[0], {3}, {3, 3, 2});
  ExpectValues((*tk)[1], {3}, {1, 3, 2});
  auto small =
      RunOp("TopK", {Tensor::F32({5}, {1, 3, 2, 3, 0}), Tensor::I64({1}, {2})},
            {{"largest", Attribute::Int(0)}}, 2);
  ASSERT_TRUE(small.ok());
  ExpectValues((*small)[1], {2}, {4, 0});
  // CumSum exclusive + reverse.
  ExpectValues(
      Run1("CumSum", {Tensor::F32({4}, {1, 2, 3, 4}), Tensor::I64({}, {0})},
           {{"exclusive", Attribute::Int(1)}, {"reverse", Attribute::Int(1)}}),
      {4}, {9, 7, 4, 0});
  // GatherND with batch_dims 1.
  ExpectValues(Run1("GatherND",
                    {Tensor::F32({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}),
                     Tensor::I64({2, 1}, {1, 0})},
                    {{"batch_dims", Attribute::Int(1)}}),
               {2, 2}, {2, 3, 4, 5});
  // ScatterND with reduction add (duplicates accumulate).
  ExpectValues(
      Run1("ScatterND",
           {Tensor::F32({4}, {1, 1, 1, 1}), Tensor::I64({3, 1}, {0, 2, 0}),
            Tensor::F32({3}, {5, 6, 7})},
           {{"reduction", Attribute::String("add")}}),
      {4}, {13, 1, 7, 1});
  // Split with sizes as input.
  auto sp = RunOp("Split",
                  {Tensor::F32({5}, {1, 2, 3, 4, 5}), Tensor::I64({2}, {2, 3})},
                  {}, 2);
  ASSERT_TRUE(sp.ok());
  ExpectValues((*sp)[1], {3}, {3, 4, 5});
  // Trilu lower with k = -1.
  ExpectValues(
      Run1("Trilu", {Tensor::F32({2, 2}, {1, 2, 3, 4}), Tensor::I64({}, {-1})},
           {{"upper", Attribute::Int(0)}}),
      {2, 2}, {0, 0, 3, 0});
  // Clip on ints with only a max; variadic Max with broadcasting.
  ExpectValues(Run1("Clip", {Typed(DType::kI32, {3}, {-5, 0, 9}), Tensor(),
                             Typed(DType::kI32, {}, {4})}),
               {3}, {-5, 0, 4});
  ExpectValues(Run1("Max", {Tensor::F32({2}, {1, 5}), Tensor::F32({}, {3}),
                            Tensor::F32({2, 1}, {0, 7})}),
               {2, 2}, {3, 5, 7, 7});
  // Pow: int base with float exponent keeps the base type.
  Tensor p = Run1("Pow", {Tensor::I64({3}, {1, 2, 3}), Tensor::F32({}, {2})});
  EXPECT_EQ(p.dtype(), DType::kI64);
  ExpectValues(p, {3}, {1, 4, 9});
  // Cast to f16 rounds.
  Tensor h =
      Run1("Cast", {Tensor::F32({1}, {1.0f + 1.0f / 1024 + 1.0f / 4096})},
           {{"to", Attribute::Int(DTypeToOnnx(DType::kF16))}});
  EXPECT_EQ(h.dtype(), DType::kF16);
  EXPECT_EQ(h.GetDouble(0), 1.0 + 1.0 / 1024);
}

TEST(Evaluator, GraphInputsAndErrors) {
  Graph g;
  ValueId x = g.AddInput("x", {DType::kF32, Shape({2})});
  ValueId y = g.AddInput("y", {DType::kF32, Shape({2})});
  NodeId n = g.AddNode("Sub", {x, y});
  NodeId m = g.AddNode("Neg", {g.node(n).outputs[0]});
  g.AddOutput(g.node(m).outputs[0]);
  auto r = Evaluator::Run(
      g, {{"x", Tensor::F32({2}, {5, 1})}, {"y", Tensor::F32({2}, {2, 3})}});
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectValues((*r)[0], {2}, {-3, 2});
  auto all = Evaluator::RunAll(
      g, {{"x", Tensor::F32({2}, {5, 1})}, {"y", Tensor::F32({2}, {2, 3})}});
  ASSERT_TRUE(all.ok());
  ExpectValues(all->at(g.node(n).outputs[0]), {2}, {3, -2});
  auto missing = Evaluator::Run(g, {{"x", Tensor::F32({2}, {5, 1})}});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'y'"), std::string::npos);
  auto bad = Evaluator::Run(
      g, {{"x", Tensor::F32({2}, {5, 1})}, {"y", Tensor::F32({3}, {2, 3, 4})}});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Sub"), std::string::npos);
  Graph u;
  ValueId ux = u.AddInput("x", {DType::kF32, Shape({2})});
  NodeId un = u.AddNode("NoSuchOp", {ux});
  u.AddOutput(u.node(un).outputs[0]);
  EXPECT_EQ(
      Evaluator::Run(u, {{"x", Tensor::F32({2}, {1, 2})}}).status().code(),
      absl::StatusCode::kUnimplemented);
}

TEST(Evaluator, QuantizedConstantIsDequantizedOnUse) {
  std::vector<float> w(2 * 32);
  for (int i = 0; i < 64; ++i) w[i] = (i % 7) - 3.0f;
  Tensor wf = Tensor::F32({2, 32}, w);
  auto wq = Quantize(wf, QuantFormat::kQ8_0);
  ASSERT_TRUE(wq.ok());
  auto wd = Dequantize(*wq);
  ASSERT_TRUE(wd.ok());
  Graph g;
  ValueId x = g.AddInput("x", {DType::kF32, Shape({1, 2})});
  ValueId c = g.AddConstant("w", *wq);
  NodeId n = g.AddNode("MatMul", {x, c});
  g.AddOutput(g.node(n).outputs[0]);
  auto r = Evaluator::Run(g, {{"x", Tensor::F32({1, 2}, {1, 2})}});
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<float> d = wd->ToFloats();
  std::vector<double> want(32);
  for (int j = 0; j < 32; ++j) want[j] = d[j] + 2.0 * d[32 + j];
  ExpectValues((*r)[0], {1, 32}, want);
}

// --- custom ops ---

Tensor Cache(int64_t b, int64_t h, int64_t c, int64_t d, float base) {
  std::vector<float> v(b * h * c * d);
  for (size_t i = 0; i < v.size(); ++i) v[i] = base + static_cast<float>(i);
  return Tensor::F32({b, h, c, d}, v);
}

float At(const Tensor& t, int64_t b, int64_t h, int64_t c, int64_t d) {
  const auto& s = t.dims();
  return t.data<float>()[((b * s[1] + h) * s[2] + c) * s[3] + d];
}

TEST(CustomOps, RMSNorm) {
  auto r =
      RunOp("CustomRMSNorm",
            {Tensor::F32({2, 2}, {3, 4, 0, 0}), Tensor::F32({2}, {1, 2})},
            {{"epsilon", Attribute::Float(0.0f)}}, 1, std::string(kQtiDomain));
  ASSERT_TRUE(r.ok()) << r.status();
  double rms = std::sqrt(12.5);
  // An all-zero row with eps 0 gives NaN (0/0); with eps > 0 it is 0.
  EXPECT_NEAR((*r)[0].GetDouble(0), 3 / rms, 1e-6);
  EXPECT_NEAR((*r)[0].GetDouble(1), 2 * 4 / rms, 1e-6);
  auto e = RunOp(
      "CustomRMSNorm", {Tensor::F32({1, 2}, {0, 0}), Tensor::F32({2}, {1, 2})},
      {{"epsilon", Attribute::Float(1e-6f)}}, 1, std::string(kQtiDomain));
  ASSERT_TRUE(e.ok());
  ExpectValues((*e)[0], {1, 2}, {0, 0});
}

TEST(CustomOps, CtxScatterFullContext) {
  // C = S = 4: every slot is written, in a permuted order.
  Tensor cache = Cache(1, 2, 4, 2, 0);
  Tensor upd = Cache(1, 2, 4, 2, 100);
  Tensor pos = Tensor::I64({1, 4}, {3, 2, 1, 0});
  auto r =
      RunOp("CtxScatter", {cache, pos, upd}, {}, 1, std::string(kQaicDomain));
  ASSERT_TRUE(r.ok()) << r.status();
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 4; ++s)
      for (int d = 0; d < 2; ++d)
        EXPECT_EQ(At((*r)[0], 0, h, 3 - s, d), At(upd, 0, h, s, d));
  // Gather all slots back with [C'] indices and with [B, C'] indices.
  auto g1 = RunOp("CtxGather", {(*r)[0], Tensor::I64({4}, {0, 1, 2, 3})}, {}, 1,
                  std::string(kQaicDomain));
  ASSERT_TRUE(g1.ok()) << g1.status();
  EXPECT_EQ((*g1)[0].ToFloats(), (*r)[0].ToFloats());
  auto g2 = RunOp("CtxGather", {(*r)[0], Tensor::I64({1, 2}, {3, 0})}, {}, 1,
                  std::string(kQaicDomain));
  ASSERT_TRUE(g2.ok()) << g2.status();
  EXPECT_EQ((*g2)[0].dims(), (std::vector<int64_t>{1, 2, 2, 2}));
  EXPECT_EQ(At((*g2)[0], 0, 1, 0, 1), At(upd, 0, 1, 0, 1));
  EXPECT_EQ(At((*g2)[0], 0, 1, 1, 0), At(upd, 0, 1, 3, 0));
}

TEST(CustomOps, CtxScatterPaddedLastChunk) {
  // ctx 6, chunk of 4 with two real tokens (positions 4, 5) and padding.
  Tensor cache = Cache(2, 1, 6, 2, 0);
  Tensor upd = Cache(2, 1, 4, 2, 100);
  Tensor pos = Tensor::I64({2, 4}, {4, 5, -1, -1, 0, -1, -1, -1});
  auto r =
      RunOp("CtxScatter", {cache, pos, upd}, {}, 1, std::string(kQaicDomain));
  ASSERT_TRUE(r.ok()) << r.status();
  const Tensor& y = (*r)[0];
  for (int c = 0; c < 6; ++c) {
    for (int d = 0; d < 2; ++d) {
      float want0 = c == 4   ? At(upd, 0, 0, 0, d)
                    : c == 5 ? At(upd, 0, 0, 1, d)
                             : At(cache, 0, 0, c, d);
      EXPECT_EQ(At(y, 0, 0, c, d), want0) << c;
      float want1 = c == 0 ? At(upd, 1, 0, 0, d) : At(cache, 1, 0, c, d);
      EXPECT_EQ(At(y, 1, 0, c, d), want1) << c;
    }
  }
  // The input cache is not modified.
  EXPECT_EQ(At(cache, 0, 0, 4, 0), 8.0f);
  // A position past the cache is an error naming the op.
  auto bad =
      RunOp("CtxScatter",
            {cache, Tensor::I64({2, 4}, {6, -1, -1, -1, 0, 1, 2, 3}), upd}, {},
            1, std::string(kQaicDomain));
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("CtxScatter"), std::string::npos);
  auto badg = RunOp("CtxGather", {cache, Tensor::I64({1}, {6})}, {}, 1,
                    std::string(kQaicDomain));
  EXPECT_FALSE(badg.ok());
  EXPECT_NE(badg.status().message().find("CtxGather"), std::string::npos);
}

TEST(CustomOps, ContinuousBatchingIdleSlot) {
  // Full batch 3; two active requests: request 0 in cache row 2, request 1
  // idle (all positions -1) pointing at row 0.
  Tensor cache = Cache(3, 2, 4, 1, 0);
  Tensor upd = Cache(2, 2, 2, 1, 100);
  Tensor bi = Tensor::I64({2, 1}, {2, 0});
  Tensor pos = Tensor::I64({2, 2}, {1, 2, -1, -1});
  auto r = RunOp("CtxScatterCB", {cache, bi, pos, upd}, {}, 1,
                 std::string(kQaicDomain));
  ASSERT_TRUE(r.ok()) << r.status();
  const Tensor& y = (*r)[0];
  for (int b = 0; b < 3; ++b)
    for (int h = 0; h < 2; ++h)
      for (int c = 0; c < 4; ++c) {
        float want = At(cache, b, h, c, 0);
        if (b == 2 && (c == 1 || c == 2)) want = At(upd, 0, h, c - 1, 0);
        EXPECT_EQ(At(y, b, h, c, 0), want) << b << " " << h << " " << c;
      }
  auto g = RunOp("CtxGatherCB",
                 {y, bi, Tensor::I64({2, 4}, {0, 1, 2, 3, 0, 1, 2, 3})}, {}, 1,
                 std::string(kQaicDomain));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)[0].dims(), (std::vector<int64_t>{2, 2, 4, 1}));
  for (int h = 0; h < 2; ++h)
    for (int c = 0; c < 4; ++c) {
      EXPECT_EQ(At((*g)[0], 0, h, c, 0), At(y, 2, h, c, 0));
      EXPECT_EQ(At((*g)[0], 1, h, c, 0), At(y, 0, h, c, 0));
    }
  auto bad =
      RunOp("CtxScatterCB", {cache, Tensor::I64({2, 1}, {3, 0}), pos, upd}, {},
            1, std::string(kQaicDomain));
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("batch_index"), std::string::npos);
}

TEST(Evaluator, NnAndLossOps) {
  Tensor x = Tensor::F32({1, 3}, {1, 2, 3});
  ExpectValues(Run1("Pad", {x, Tensor::I64({4}, {0, 2, 0, 1})},
                    {{"mode", Attribute::String("reflect")}}),
               {1, 6}, {3, 2, 1, 2, 3, 2});
  ExpectValues(Run1("Tile", {x, Tensor::I64({2}, {2, 1})}), {2, 3},
               {1, 2, 3, 1, 2, 3});
  ExpectValues(Run1("OneHot", {Tensor::I64({2}, {0, -1}), Tensor::I64({}, {3}),
                               Tensor::F32({2}, {0, 5})}),
               {2, 3}, {5, 0, 0, 0, 0, 5});
  ExpectValues(Run1("LeakyRelu", {Tensor::F32({2}, {-2, 2})},
                    {{"alpha", Attribute::Float(0.5f)}}),
               {2}, {-1, 2});
  // NLL with class weights, mean reduction: (1*0.5 + 2*0.25) / (1 + 2).
  Tensor logp = Tensor::F32({2, 2}, {-0.5f, -1.5f, -3.0f, -0.25f});
  ExpectValues(Run1("NegativeLogLikelihoodLoss",
                    {logp, Tensor::I64({2}, {0, 1}), Tensor::F32({2}, {1, 2})}),
               {}, {1.0 / 3.0});
}

}  // namespace
}  // namespace qeff::ir
