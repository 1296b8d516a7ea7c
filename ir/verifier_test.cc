#include "ir/verifier.h"

#include <string>

#include "gtest/gtest.h"
#include "ir/graph.h"
#include "ir/op_schema.h"

namespace qeff::ir {
namespace {

// x -> Relu 'r' -> Neg 'n' -> output
struct Chain {
  Graph g;
  ValueId x, r, n;
  NodeId relu, neg;
  Chain() {
    x = g.AddInput("x", {DType::kF32, {Dim::Symbol("b"), 4}});
    relu = g.AddNode("Relu", {x}, 1, {}, "r");
    r = g.node(relu).outputs[0];
    neg = g.AddNode("Neg", {r}, 1, {}, "n");
    n = g.node(neg).outputs[0];
    g.AddOutput(n);
    EXPECT_TRUE(InferShapes(g).ok());
  }
};

void ExpectError(const Graph& g, const std::string& part1,
                 const std::string& part2 = "") {
  absl::Status st = VerifyGraph(g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(part1), std::string::npos) << st;
  EXPECT_NE(st.message().find(part2), std::string::npos) << st;
}

TEST(Verifier, ValidGraphPasses) {
  Chain c;
  EXPECT_TRUE(VerifyGraph(c.g).ok()) << VerifyGraph(c.g);
  // Removing dead code keeps it valid.
  c.g.AddNode("Exp", {c.x}, 1, {}, "unused");
  ASSERT_TRUE(InferShapes(c.g).ok());
  c.g.RemoveDeadCode();
  EXPECT_TRUE(VerifyGraph(c.g).ok()) << VerifyGraph(c.g);
}

TEST(Verifier, UnknownOp) {
  Chain c;
  c.g.AddNode("Frobnicate", {c.x}, 1, {}, "frob");
  ExpectError(c.g, "Frobnicate 'frob'", "no schema");
}

TEST(Verifier, DanglingInput) {
  Chain c;
  c.g.node(c.relu).dead = true;  // tombstoned without fixing its user
  ExpectError(c.g, "Neg 'n'", "%r");
}

TEST(Verifier, UseListsBothWays) {
  Chain c;
  c.g.value(c.r).uses.clear();
  ExpectError(c.g, "Neg 'n'", "use");
  Chain d;
  d.g.value(d.x).uses.push_back({d.neg, 0});
  ExpectError(d.g, "%x", "Neg 'n'");
}

TEST(Verifier, OutputNotProduced) {
  Chain c;
  NodeId e = c.g.AddNode("Exp", {c.x}, 1, {}, "e");
  ValueId ev = c.g.node(e).outputs[0];
  ASSERT_TRUE(InferShapes(c.g).ok());
  c.g.AddOutput(ev);
  EXPECT_TRUE(VerifyGraph(c.g).ok());
  c.g.node(e).dead = true;
  c.g.value(c.x).uses.pop_back();
  ExpectError(c.g, "graph output", "%e");
}

TEST(Verifier, Cycle) {
  Chain c;
  NodeId add = c.g.AddNode("Add", {c.x, c.x}, 1, {}, "loop");
  ASSERT_TRUE(InferShapes(c.g).ok());
  c.g.SetNodeInput(add, 1, c.g.node(add).outputs[0]);
  ExpectError(c.g, "cycle", "Add 'loop'");
}

TEST(Verifier, TypesAgreeWithInference) {
  Chain c;
  c.g.value(c.n).type.dtype = DType::kF16;
  ExpectError(c.g, "Neg 'n'", "inference gives f32[b, 4]");
  Chain d;
  d.g.value(d.n).type.shape = Shape::Unranked();  // less specific
  ExpectError(d.g, "Neg 'n'", "%n");
  Chain e;
  e.g.value(e.n).type.shape = Shape({Dim::Symbol("b"), 5});
  ExpectError(e.g, "Neg 'n'");

  // More specific than inference is fine.
  Graph g;
  ValueId x = g.AddInput("x", {DType::kF32, {2, 3}});
  ValueId t = g.AddInput("t", {DType::kI64, {2}});
  NodeId r = g.AddNode("Reshape", {x, t}, 1, {}, "reshape");
  g.AddOutput(g.node(r).outputs[0]);
  ASSERT_TRUE(InferShapes(g).ok());
  EXPECT_EQ(g.value(g.node(r).outputs[0]).type.ToString(), "f32[?, ?]");
  g.value(g.node(r).outputs[0]).type.shape = Shape({3, 2});
  EXPECT_TRUE(VerifyGraph(g).ok()) << VerifyGraph(g);
}

TEST(Verifier, AttributesChecked) {
  Chain c;
  c.g.node(c.relu).attrs["alpha"] = Attribute::Float(0.1f);
  ExpectError(c.g, "Relu 'r'", "'alpha'");
}

TEST(Verifier, ConstantTypeMatchesTensor) {
  Graph g;
  ValueId w = g.AddConstant("w", Tensor::F32({2}, {1, 2}));
  NodeId n = g.AddNode("Neg", {w}, 1, {}, "neg");
  g.AddOutput(g.node(n).outputs[0]);
  ASSERT_TRUE(InferShapes(g).ok());
  EXPECT_TRUE(VerifyGraph(g).ok());
  g.value(w).type.shape = Shape({3});
  ExpectError(g, "constant %w", "f32[2]");
}

}  // namespace
}  // namespace qeff::ir
