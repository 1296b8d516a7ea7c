#include "ir/op_schema.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ir/graph.h"

namespace qeff::ir {
namespace {

Dim S(const char* s) { return Dim::Symbol(s); }

class InferTest : public ::testing::Test {
 protected:
  ValueId In(const std::string& name, DType t, Shape s) {
    return g_.AddInput(name, {t, std::move(s)});
  }
  ValueId I64s(std::vector<int64_t> v) {
    int64_t n = static_cast<int64_t>(v.size());
    return g_.AddConstant("", Tensor::I64({n}, v));
  }
  ValueId Op(const std::string& op, std::vector<ValueId> in,
             std::map<std::string, Attribute> attrs = {},
             const std::string& domain = "") {
    NodeId n = g_.AddNode(op, std::move(in), 1, std::move(attrs), "", domain);
    return g_.node(n).outputs[0];
  }
  std::string Type(ValueId v) { return g_.value(v).type.ToString(); }
  // Infers the whole graph; returns the status.
  absl::Status Infer() { return InferShapes(g_); }

  Graph g_;
};

TEST_F(InferTest, ReshapeFromConcatOfShape) {
  ValueId x = In("x", DType::kF32, {S("batch"), S("seq_len"), 512});
  ValueId shape = Op("Shape", {x});
  ValueId head = Op("Slice", {shape, I64s({0}), I64s({2})});
  ValueId target =
      Op("Concat", {head, I64s({8, 64})}, {{"axis", Attribute::Int(0)}});
  ValueId y = Op("Reshape", {x, target});
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(shape), "i64[3]");
  EXPECT_EQ(Type(target), "i64[4]");
  EXPECT_EQ(Type(y), "f32[batch, seq_len, 8, 64]");
}

TEST_F(InferTest, ReshapeMinusOneAndZero) {
  ValueId x = In("x", DType::kF32, {S("b"), S("s"), 512});
  ValueId y = Op("Reshape", {x, I64s({0, 0, 8, -1})});
  ValueId z = Op("Reshape", {x, I64s({-1, 512})});
  ValueId w = Op("Reshape", {y, I64s({0, 0, -1})});
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(y), "f32[b, s, 8, 64]");
  EXPECT_EQ(Type(z), "f32[(b * s), 512]");
  EXPECT_EQ(Type(w), "f32[b, s, 512]");
  // Unknown target data: rank from the shape input's length.
  ValueId t = In("t", DType::kI64, {3});
  ValueId u = Op("Reshape", {x, t});
  ASSERT_TRUE(Infer().ok());
  EXPECT_EQ(Type(u), "f32[?, ?, ?]");
}

TEST_F(InferTest, ReshapeStaticMismatchNamesNode) {
  ValueId x = In("x", DType::kF32, {2, 3});
  NodeId n = g_.AddNode("Reshape", {x, I64s({4, 2})}, 1, {}, "bad_reshape");
  (void)n;
  absl::Status st = Infer();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Reshape 'bad_reshape'"), std::string::npos)
      << st;
}

TEST_F(InferTest, BroadcastSymbolic) {
  ValueId a = In("a", DType::kF32, {S("batch"), 1, S("n")});
  ValueId b = In("b", DType::kF32, {S("seq"), 1});
  ValueId c = In("c", DType::kF32, {4, S("m")});
  ValueId ab = Op("Add", {a, b});
  ValueId ac = Op("Mul", {a, c});
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(ab), "f32[batch, seq, n]");
  EXPECT_EQ(Type(ac), "f32[batch, 4, ?]");

  Graph g2;
  ValueId p = g2.AddInput("p", {DType::kF32, {2, 3}});
  ValueId q = g2.AddInput("q", {DType::kF32, {4, 3}});
  g2.AddNode("Add", {p, q}, 1, {}, "add_bad");
  absl::Status st = InferShapes(g2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Add 'add_bad'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("broadcast"), std::string::npos) << st;
}

TEST_F(InferTest, DTypeMismatchIsError) {
  ValueId a = In("a", DType::kF32, {2});
  ValueId b = In("b", DType::kI64, {2});
  Op("Add", {a, b});
  EXPECT_FALSE(Infer().ok());
}

TEST_F(InferTest, MatMulAndGemm) {
  ValueId x = In("x", DType::kF32, {S("batch"), S("seq"), 64});
  ValueId w = g_.AddConstant("w", Tensor::Zeros(DType::kF32, {64, 32}));
  ValueId y = Op("MatMul", {x, w});
  ValueId v = In("v", DType::kF32, {64});
  ValueId xv = Op("MatMul", {x, v});
  ValueId a = In("a", DType::kF32, {S("m"), 64});
  ValueId gemm = Op("Gemm", {a, w}, {{"transB", Attribute::Int(0)}});
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(y), "f32[batch, seq, 32]");
  EXPECT_EQ(Type(xv), "f32[batch, seq]");
  EXPECT_EQ(Type(gemm), "f32[m, 32]");
  Op("MatMul", {w, w});  // 32 != 64
  EXPECT_FALSE(Infer().ok());
}

TEST_F(InferTest, SchemaValidation) {
  ValueId x = In("x", DType::kF32, {2, 3});
  NodeId n = g_.AddNode("Softmax", {x}, 1, {{"axiz", Attribute::Int(1)}}, "sm");
  absl::Status st = InferNode(g_, n);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Softmax 'sm'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("'axiz'"), std::string::npos) << st;

  NodeId k = g_.AddNode("Softmax", {x}, 1, {{"axis", Attribute::Float(1)}});
  st = InferNode(g_, k);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("must be int"), std::string::npos) << st;

  NodeId a = g_.AddNode("Add", {x}, 1);
  EXPECT_FALSE(InferNode(g_, a).ok());
  NodeId c = g_.AddNode("Cast", {x}, 1);  // `to` is required
  EXPECT_FALSE(InferNode(g_, c).ok());
  NodeId u = g_.AddNode("NoSuchOp", {x}, 1);
  EXPECT_EQ(InferNode(g_, u).code(), absl::StatusCode::kNotFound);
  NodeId o = g_.AddNode("Softmax", {x}, 2);
  EXPECT_FALSE(InferNode(g_, o).ok());
}

TEST_F(InferTest, SliceGatherRangeConstantOfShape) {
  ValueId x = In("x", DType::kF32, {S("batch"), S("seq_len"), 100});
  ValueId last = Op("Slice", {x, I64s({-1}), I64s({INT64_MAX}), I64s({1})});
  ValueId drop = Op("Slice", {x, I64s({0}), I64s({-1}), I64s({1})});
  ValueId stat = Op(
      "Slice", {x, I64s({10, 0}), I64s({-5, 100}), I64s({2, 1}), I64s({3, 1})});
  ValueId shape = Op("Shape", {x});
  ValueId seq = Op("Gather", {shape, g_.AddConstant("", Tensor::ScalarI64(1))});
  ValueId zero = g_.AddConstant("", Tensor::ScalarI64(0));
  ValueId one = g_.AddConstant("", Tensor::ScalarI64(1));
  ValueId range = Op("Range", {zero, seq, one});
  ValueId cos = In("cos", DType::kF32, {2048, 64});
  ValueId cos_s =
      Op("Slice", {cos, I64s({0}), Op("Unsqueeze", {seq, I64s({0})})});
  ValueId zeros = Op("ConstantOfShape", {shape},
                     {{"value", Attribute::TensorValue(Tensor::ScalarI64(7))}});
  ValueId gathered = Op("Gather", {x, In("ids", DType::kI64, {S("k")})},
                        {{"axis", Attribute::Int(1)}});
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(last), "f32[batch, 1, 100]");
  EXPECT_EQ(Type(drop), "f32[batch, (seq_len - 1), 100]");
  EXPECT_EQ(Type(stat), "f32[batch, ?, 29]");  // 100 may clamp
  EXPECT_EQ(Type(seq), "i64[]");
  EXPECT_EQ(Type(range), "i64[seq_len]");
  EXPECT_EQ(Type(cos_s), "f32[seq_len, 64]");
  EXPECT_EQ(Type(zeros), "i64[batch, seq_len, 100]");
  EXPECT_EQ(Type(gathered), "f32[batch, k, 100]");

  SymbolicValueMap values;
  ASSERT_TRUE(InferShapes(g_, &values).ok());
  ASSERT_TRUE(values.count(shape));
  EXPECT_EQ(Shape(values[shape]).ToString(), "[batch, seq_len, 100]");
}

TEST_F(InferTest, SplitUnsqueezeSqueezeExpandWhere) {
  ValueId x = In("x", DType::kF32, {S("b"), 6, S("d")});
  NodeId sp =
      g_.AddNode("Split", {x, I64s({2, 4})}, 2, {{"axis", Attribute::Int(1)}});
  NodeId eq = g_.AddNode("Split", {x}, 2, {{"axis", Attribute::Int(-1)}});
  ValueId u = Op("Unsqueeze", {x, I64s({0, -1})});
  ValueId sq = Op("Squeeze", {u, I64s({0})});
  ValueId m = In("m", DType::kF32, {S("b"), 1, 1});
  ValueId e = Op("Expand", {m, Op("Shape", {x})});
  ValueId c = In("c", DType::kBool, {1, 6, 1});
  ValueId w = Op("Where", {c, x, g_.AddConstant("", Tensor::ScalarF32(0))});
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(g_.node(sp).outputs[0]), "f32[b, 2, d]");
  EXPECT_EQ(Type(g_.node(sp).outputs[1]), "f32[b, 4, d]");
  EXPECT_EQ(Type(g_.node(eq).outputs[1]), "f32[b, 6, (d // 2)]");
  EXPECT_EQ(Type(u), "f32[1, b, 6, d, 1]");
  EXPECT_EQ(Type(sq), "f32[b, 6, d, 1]");
  EXPECT_EQ(Type(e), "f32[b, 6, d]");
  EXPECT_EQ(Type(w), "f32[b, 6, d]");
  g_.AddNode("Split", {x, I64s({2, 3})}, 2, {{"axis", Attribute::Int(1)}});
  EXPECT_FALSE(Infer().ok());
}

TEST_F(InferTest, ReductionsTopKArgMaxMisc) {
  ValueId x = In("x", DType::kF32, {S("b"), S("s"), 32});
  ValueId mean = Op("ReduceMean", {x}, {{"axes", Attribute::Ints({-1})}});
  ValueId max =
      Op("ReduceMax", {x},
         {{"axes", Attribute::Ints({1})}, {"keepdims", Attribute::Int(0)}});
  ValueId sum =
      Op("ReduceSum", {x, I64s({0, 2})}, {{"keepdims", Attribute::Int(0)}});
  ValueId all = Op("ReduceSum", {x});
  NodeId tk = g_.AddNode("TopK", {x, I64s({5})}, 2);
  ValueId am =
      Op("ArgMax", {x},
         {{"axis", Attribute::Int(1)}, {"keepdims", Attribute::Int(0)}});
  ValueId t = Op("Transpose", {x}, {{"perm", Attribute::Ints({0, 2, 1})}});
  ValueId cast = Op("Cast", {x}, {{"to", Attribute::Int(10)}});  // f16
  ValueId sm = Op("Softmax", {x});
  ValueId tri = Op("Trilu", {x}, {{"upper", Attribute::Int(0)}});
  ValueId cs = Op("CumSum", {x, g_.AddConstant("", Tensor::ScalarI64(1))});
  ValueId sh = Op("Shape", {x}, {{"start", Attribute::Int(1)}});
  ValueId k = Op("Constant", {}, {{"value_ints", Attribute::Ints({1, 2, 3})}});
  NodeId ln =
      g_.AddNode("LayerNormalization",
                 {x, g_.AddConstant("", Tensor::Zeros(DType::kF32, {32}))}, 3,
                 {{"epsilon", Attribute::Float(1e-5f)}});
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(mean), "f32[b, s, 1]");
  EXPECT_EQ(Type(max), "f32[b, 32]");
  EXPECT_EQ(Type(sum), "f32[s]");
  EXPECT_EQ(Type(all), "f32[1, 1, 1]");
  EXPECT_EQ(Type(g_.node(tk).outputs[0]), "f32[b, s, 5]");
  EXPECT_EQ(Type(g_.node(tk).outputs[1]), "i64[b, s, 5]");
  EXPECT_EQ(Type(am), "i64[b, 32]");
  EXPECT_EQ(Type(t), "f32[b, 32, s]");
  EXPECT_EQ(Type(cast), "f16[b, s, 32]");
  EXPECT_EQ(Type(sm), "f32[b, s, 32]");
  EXPECT_EQ(Type(tri), "f32[b, s, 32]");
  EXPECT_EQ(Type(cs), "f32[b, s, 32]");
  EXPECT_EQ(Type(sh), "i64[2]");
  EXPECT_EQ(Type(k), "i64[3]");
  EXPECT_EQ(Type(g_.node(ln).outputs[0]), "f32[b, s, 32]");
  EXPECT_EQ(Type(g_.node(ln).outputs[1]), "f32[b, s, 1]");
}

TEST_F(InferTest, CustomOps) {
  ValueId cache =
      In("past_key.0", DType::kF32, {S("batch_size"), 4, S("ctx_len"), 16});
  ValueId pos =
      In("position_ids", DType::kI64, {S("batch_size"), S("seq_len")});
  ValueId upd = In("k", DType::kF32, {S("batch_size"), 4, S("seq_len"), 16});
  ValueId sc =
      Op("CtxScatter", {cache, pos, upd}, {}, std::string(kQaicDomain));
  ValueId idx = In("ctx_indices", DType::kI64, {S("batch_size"), S("ctx_len")});
  ValueId ga = Op("CtxGather", {sc, idx}, {}, std::string(kQaicDomain));
  ValueId fb =
      In("fb_cache", DType::kF32, {S("full_batch_size"), 4, S("ctx_len"), 16});
  ValueId bi = In("batch_index", DType::kI64, {S("batch_size"), 1});
  ValueId scb =
      Op("CtxScatterCB", {fb, bi, pos, upd}, {}, std::string(kQaicDomain));
  ValueId gcb = Op("CtxGatherCB", {scb, bi, idx}, {}, std::string(kQaicDomain));
  ValueId h = In("h", DType::kF16, {S("batch_size"), S("seq_len"), 64});
  ValueId rw = g_.AddConstant("w", Tensor::Zeros(DType::kF16, {64}));
  ValueId rms =
      Op("CustomRMSNorm", {h, rw}, {{"epsilon", Attribute::Float(1e-6f)}},
         std::string(kQtiDomain));
  ASSERT_TRUE(Infer().ok()) << Infer();
  EXPECT_EQ(Type(sc), "f32[batch_size, 4, ctx_len, 16]");
  EXPECT_EQ(Type(ga), "f32[batch_size, 4, ctx_len, 16]");
  EXPECT_EQ(Type(scb), "f32[full_batch_size, 4, ctx_len, 16]");
  EXPECT_EQ(Type(gcb), "f32[batch_size, 4, ctx_len, 16]");
  EXPECT_EQ(Type(rms), "f16[batch_size, seq_len, 64]");
  // Wrong head_dim in the updates.
  ValueId bad = In("bad", DType::kF32, {S("batch_size"), 4, S("seq_len"), 8});
  g_.AddNode("CtxScatter", {cache, pos, bad}, 1, {}, "scatter_bad",
             std::string(kQaicDomain));
  absl::Status st = Infer();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("scatter_bad"), std::string::npos) << st;
  EXPECT_EQ(FindOpSchema("com.qualcomm.cloud", "CustomRMSNorm"), nullptr);
}

TEST_F(InferTest, StoredMoreSpecificShapeIsKept) {
  ValueId x = In("x", DType::kF32, {2, 3});
  ValueId t = In("t", DType::kI64, {2});
  ValueId y = Op("Reshape", {x, t});
  g_.value(y).type = {DType::kF32, Shape({3, 2})};
  ASSERT_TRUE(Infer().ok());
  EXPECT_EQ(Type(y), "f32[3, 2]");
}

TEST(OpSchema, EveryListedOpHasASchema) {
  std::vector<std::string> all = RequiredOnnxOps();
  for (const char* op :
       {"Constant", "Identity", "Relu", "Abs", "Floor", "Ceil", "Sign",
        "LessOrEqual", "GreaterOrEqual", "Or", "Xor", "Mod", "Softplus"})
    all.push_back(op);
  for (const std::string& op : all) {
    EXPECT_NE(FindOpSchema("", op), nullptr) << op;
  }
  for (const char* op :
       {"CtxScatter", "CtxGather", "CtxScatterCB", "CtxGatherCB"})
    EXPECT_NE(FindOpSchema(kQaicDomain, op), nullptr) << op;
  EXPECT_NE(FindOpSchema(kQtiDomain, "CustomRMSNorm"), nullptr);
  EXPECT_GE(AllOpSchemas().size(), 68u);
}

}  // namespace
}  // namespace qeff::ir
