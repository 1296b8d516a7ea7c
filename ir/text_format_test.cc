#include "ir/text_format.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "ir/op_schema.h"
#include "ir/verifier.h"

namespace qeff::ir {
namespace {

// Structural comparison of two graphs by walking live nodes in
// topological order (ids may differ).
void ExpectSameStructure(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.opsets, b.opsets);
  ASSERT_EQ(a.inputs().size(), b.inputs().size());
  for (size_t i = 0; i < a.inputs().size(); ++i) {
    EXPECT_EQ(a.value(a.inputs()[i]).name, b.value(b.inputs()[i]).name);
    EXPECT_EQ(a.value(a.inputs()[i]).type.ToString(),
              b.value(b.inputs()[i]).type.ToString());
  }
  auto oa = a.TopologicalOrder(), ob = b.TopologicalOrder();
  ASSERT_TRUE(oa.ok() && ob.ok());
  ASSERT_EQ(oa->size(), ob->size());
  for (size_t k = 0; k < oa->size(); ++k) {
    const Node& na = a.node((*oa)[k]);
    const Node& nb = b.node((*ob)[k]);
    EXPECT_EQ(na.op_type, nb.op_type);
    EXPECT_EQ(na.domain, nb.domain);
    EXPECT_EQ(na.name, nb.name);
    ASSERT_EQ(na.inputs.size(), nb.inputs.size()) << na.Describe();
    for (size_t i = 0; i < na.inputs.size(); ++i) {
      ASSERT_EQ(na.inputs[i] == kNoValue, nb.inputs[i] == kNoValue);
      if (na.inputs[i] == kNoValue) continue;
      const Value& va = a.value(na.inputs[i]);
      const Value& vb = b.value(nb.inputs[i]);
      EXPECT_EQ(va.name, vb.name);
      EXPECT_EQ(va.type.ToString(), vb.type.ToString());
      ASSERT_EQ(va.is_constant(), vb.is_constant());
      if (va.is_constant()) {
        ASSERT_EQ(va.constant->byte_size(), vb.constant->byte_size());
        EXPECT_EQ(0, std::memcmp(va.constant->raw(), vb.constant->raw(),
                                 va.constant->byte_size()));
        EXPECT_EQ(va.constant->quant(), vb.constant->quant());
      }
    }
    ASSERT_EQ(na.outputs.size(), nb.outputs.size());
    for (size_t i = 0; i < na.outputs.size(); ++i) {
      EXPECT_EQ(a.value(na.outputs[i]).name, b.value(nb.outputs[i]).name);
      EXPECT_EQ(a.value(na.outputs[i]).type.ToString(),
                b.value(nb.outputs[i]).type.ToString());
    }
    ASSERT_EQ(na.attrs.size(), nb.attrs.size());
    for (const auto& [name, x] : na.attrs) {
      const Attribute* y = nb.attr(name);
      ASSERT_NE(y, nullptr) << name;
      ASSERT_EQ(x.kind(), y->kind()) << name;
      switch (x.kind()) {
        case Attribute::Kind::kInt:
          EXPECT_EQ(x.i(), y->i());
          break;
        case Attribute::Kind::kFloat: {
          float fx = x.f(), fy = y->f();
          EXPECT_EQ(0, std::memcmp(&fx, &fy, 4)) << name;
        } break;
        case Attribute::Kind::kString:
          EXPECT_EQ(x.s(), y->s());
          break;
        case Attribute::Kind::kTensor:
          EXPECT_EQ(x.t().TypeString(), y->t().TypeString());
          if (x.t().byte_size() > 0) {
            EXPECT_EQ(
                0, std::memcmp(x.t().raw(), y->t().raw(), x.t().byte_size()));
          }
          break;
        case Attribute::Kind::kInts:
          EXPECT_EQ(x.ints(), y->ints());
          break;
        case Attribute::Kind::kFloats:
          ASSERT_EQ(x.floats().size(), y->floats().size());
          if (!x.floats().empty()) {  // memcmp of null pointers is UB
            EXPECT_EQ(0, std::memcmp(x.floats().data(), y->floats().data(),
                                     4 * x.floats().size()));
          }
          break;
        case Attribute::Kind::kStrings:
          EXPECT_EQ(x.strings(), y->strings());
          break;
      }
    }
  }
  ASSERT_EQ(a.outputs().size(), b.outputs().size());
  for (size_t i = 0; i < a.outputs().size(); ++i)
    EXPECT_EQ(a.value(a.outputs()[i]).name, b.value(b.outputs()[i]).name);
}

Graph RichGraph() {
  Graph g;
  g.opsets[std::string(kQaicDomain)] = 1;
  g.opsets[std::string(kQtiDomain)] = 1;
  Dim b = Dim::Symbol("batch_size"), s = Dim::Symbol("seq_len"),
      c = Dim::Symbol("ctx_len");
  ValueId x = g.AddInput("input_ids", {DType::kI64, {b, s}});
  ValueId cache = g.AddInput("past_key.0", {DType::kF32, {b, 2, c, 4}});
  ValueId odd =
      g.AddInput("odd name \"q\"", {DType::kF32, {c - 1, Dim::Unknown()}});
  ValueId unr = g.AddInput("unranked", {DType::kF16, Shape::Unranked()});
  (void)unr;
  std::vector<float> big(100);
  for (int i = 0; i < 100; ++i) big[i] = std::sin(i * 0.37f) * 1e3f;
  ValueId w = g.AddConstant("w", Tensor::F32({10, 10}, big));
  ValueId small = g.AddConstant("", Tensor::F32({3}, {0.1f, -0.0f, 1e-30f}));
  Tensor f16 = Tensor::Zeros(DType::kF16, {2});
  f16.mutable_data<uint16_t>()[0] = FloatToHalf(0.333f);
  f16.mutable_data<uint16_t>()[1] = FloatToHalf(-65504.f);
  ValueId h = g.AddConstant("h", f16);
  Tensor bools = Tensor::Zeros(DType::kBool, {2});
  bools.mutable_raw()[1] = 1;
  ValueId bv = g.AddConstant("mask", bools);
  auto qbuf = Buffer::Allocate(34);
  for (int i = 0; i < 34; ++i)
    qbuf->mutable_data()[i] = static_cast<uint8_t>(i * 7);
  ValueId q = g.AddConstant(
      "qw",
      *Tensor::FromQuantized(QuantFormat::kQ8_0, DType::kF32, {1, 32}, qbuf));
  std::map<std::string, Attribute> attrs = {
      {"i", Attribute::Int(-7)},
      {"f", Attribute::Float(0.1f)},
      {"f_int", Attribute::Float(2.0f)},
      {"f_tiny", Attribute::Float(1e-38f)},
      {"f_inf", Attribute::Float(-std::numeric_limits<float>::infinity())},
      {"s", Attribute::String("tab\there \"quoted\" back\\slash\nnl \x01 é")},
      {"t", Attribute::TensorValue(Tensor::I64({2, 2}, {1, -2, 3, INT64_MIN}))},
      {"t_big", Attribute::TensorValue(Tensor::F32({10, 10}, big))},
      {"ints", Attribute::Ints({1, -2, 3})},
      {"no_ints", Attribute::Ints({})},
      {"floats", Attribute::Floats({1.0f, 0.5f, 3.14159274f})},
      {"no_floats", Attribute::Floats({})},
      {"strings", Attribute::Strings({"a", "", "c,d]"})},
      {"no_strings", Attribute::Strings({})},
      {"weird-name", Attribute::Int(1)},
  };
  NodeId n = g.AddNode("AllAttrs", {x, kNoValue, w, small, h, bv, q, kNoValue},
                       2, attrs, "all.attrs", "com.example");
  g.value(g.node(n).outputs[0]).type = {DType::kF32, {b, s, (c - 1) * 2}};
  g.value(g.node(n).outputs[1]).type = {DType::kI64,
                                        {Dim::FloorDiv(c, 4), Dim::Unknown()}};
  NodeId sc = g.AddNode("CtxScatter", {cache, x, g.node(n).outputs[0]}, 1, {},
                        "", std::string(kQaicDomain));
  // Two values with the same name, and an unnamed one.
  NodeId d1 = g.AddNode("Identity", {odd}, 1, {}, "dup");
  NodeId d2 = g.AddNode("Identity", {g.node(d1).outputs[0]}, 1, {}, "dup");
  g.value(g.node(d2).outputs[0]).name = "dup";
  g.AddOutput(g.node(sc).outputs[0]);
  g.AddOutput(g.node(d2).outputs[0]);
  g.AddOutput(g.node(n).outputs[1]);
  return g;
}

TEST(TextFormat, RoundTripEveryAttributeKind) {
  Graph g = RichGraph();
  std::string text = PrintGraph(g);
  auto parsed = ParseGraph(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  EXPECT_EQ(PrintGraph(*parsed), text);
  ExpectSameStructure(g, *parsed);
  // A few spellings the format promises.
  EXPECT_NE(text.find("graph main (opset 17, com.qti.aisw.onnx 1, "
                      "com.qualcomm.cloud 1) {"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("input %input_ids: i64[batch_size, seq_len]"),
            std::string::npos);
  EXPECT_NE(text.find("input %\"odd name \\\"q\\\"\": f32[(ctx_len - 1), ?]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("input %unranked: f16[*]"), std::string::npos);
  EXPECT_NE(text.find("const %0: f32[3] = [0.100000001, -0, 1e-30]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("const %mask: bool[2] = [false, true]"),
            std::string::npos);
  EXPECT_NE(text.find("const %qw: q8_0 f32[1, 32] = 0x00070e"),
            std::string::npos);
  EXPECT_NE(text.find("com.example.AllAttrs(%input_ids, _, %w"),
            std::string::npos);
  EXPECT_NE(text.find(", _)"), std::string::npos);  // trailing omitted input
  EXPECT_NE(text.find("f_int=2.0"), std::string::npos);
  EXPECT_NE(text.find("no_ints=ints[]"), std::string::npos);
  EXPECT_NE(text.find("t=tensor(i64[2, 2] [1, -2, 3, -9223372036854775808])"),
            std::string::npos);
  EXPECT_NE(text.find(": f32[batch_size, seq_len, ((ctx_len - 1) * 2)], "
                      "i64[(ctx_len // 4), ?] @\"all.attrs\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("com.qualcomm.cloud.CtxScatter("), std::string::npos);
  EXPECT_NE(text.find("%dup@2 = Identity(%dup)"), std::string::npos) << text;
}

TEST(TextFormat, ParsesHandWrittenGraphForInference) {
  std::string w = "[";
  for (int i = 0; i < 512; ++i) w += i ? ", 1" : "1";
  w += "]";
  std::string src =
      "graph main (opset 17, com.qualcomm.cloud 1, com.qti.aisw.onnx 1) {\n"
      "  input  %x: f32[batch, seq_len, 512]   # hidden states\n"
      "  input  %cache: f32[batch, 8, ctx_len, 64]\n"
      "  input  %pos: i64[batch, seq_len]\n"
      "  const  %w: f32[512] = " +
      w +
      "\n"
      "  const  %tail: i64[2] = [8, 64]\n"
      "  %n = com.qti.aisw.onnx.CustomRMSNorm(%x, %w) {epsilon=1e-06} : "
      "f32[*]\n"
      "  %s = Shape(%n) {end=2} : i64[*]\n"
      "  %shape = Concat(%s, %tail) {axis=0} : i64[*]\n"
      "  %h = Reshape(%n, %shape) : f32[*]\n"
      "  %u = Transpose(%h) {perm=[0, 2, 1, 3]} : f32[*]\n"
      "  %k = com.qualcomm.cloud.CtxScatter(%cache, %pos, %u) : f32[*] "
      "@\"layers.0.k\"\n"
      "  output %k, %u\n"
      "}\n";
  auto g = ParseGraph(src);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(InferShapes(*g).ok()) << InferShapes(*g);
  EXPECT_TRUE(VerifyGraph(*g).ok()) << VerifyGraph(*g);
  std::string out = PrintGraph(*g);
  EXPECT_NE(out.find("%u = Transpose(%h) {perm=[0, 2, 1, 3]} : f32[batch, 8, "
                     "seq_len, 64]"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(": f32[batch, 8, ctx_len, 64] @\"layers.0.k\""),
            std::string::npos);
  EXPECT_EQ(PrintGraph(*ParseGraph(out)), out);
}

TEST(TextFormat, ElidedDumpIsNotParseable) {
  Graph g = RichGraph();
  PrintOptions o;
  o.elide_large_tensors = true;
  std::string text = PrintGraph(g, o);
  EXPECT_NE(text.find("const %w: f32[10, 10] = ..."), std::string::npos)
      << text;
  auto parsed = ParseGraph(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("elided"), std::string::npos);
}

void ExpectParseError(const std::string& text, const std::string& where,
                      const std::string& what) {
  auto g = ParseGraph(text);
  ASSERT_FALSE(g.ok()) << text;
  std::string msg(g.status().message());
  EXPECT_EQ(msg.rfind(where, 0), 0u) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
}

TEST(TextFormat, ParseErrorsGiveLineAndColumn) {
  ExpectParseError("grph main () {}", "1:1:", "expected 'graph'");
  ExpectParseError("graph main (opset 17) {\n  input %x: f33[2]\n}",
                   "2:13:", "unknown dtype 'f33'");
  ExpectParseError("graph main (opset 17) {\n  %y = Neg(%x) : f32[2]\n}",
                   "2:12:", "undefined value");
  ExpectParseError(
      "graph main (opset 17) {\n  input %x: f32[2]\n  input %x: f32[2]\n}",
      "3:9:", "defined twice");
  ExpectParseError("graph main (opset 17) {\n  const %c: f32[2] = [1, 2, 3]\n}",
                   "2:", "more than 2 elements");
  ExpectParseError("graph main (opset 17) {\n  const %c: f32[2] = [1]\n}",
                   "2:22:", "expected 2 elements, got 1");
  ExpectParseError(
      "graph main (opset 17) {\n  %y = Neg(%x) {s=\"abc} : f32[2]\n}",
      "2:19:", "unterminated string");
  ExpectParseError("graph main (opset 17) {\n  input %x: f32[2, (a +]\n}",
                   "2:16:", "bad dimension");
  ExpectParseError("graph main (opset 17) {\n  %y = Neg(%x) {a=[]} : f32[2]\n}",
                   "2:19:", "empty list needs its kind");
  ExpectParseError("graph main (opset 17) {\n  input %x: f32[2]\n",
                   "3:1:", "expected '}'");
  ExpectParseError("graph main (opset 17) {\n  const %c: i64[1] = 0x01\n}",
                   "2:", "expected 8 bytes");
}

}  // namespace
}  // namespace qeff::ir
