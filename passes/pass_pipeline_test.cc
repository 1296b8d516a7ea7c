// PassPipeline: skip by name, dump by regex, a bad regex, verification after
// a changing pass, errors naming the pass, timings.
#include "passes/pass_pipeline.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ir/builder.h"
#include "ir/op_schema.h"

namespace qeff::passes {
namespace {

using ir::DType;
using ir::Shape;

// y = Relu(x) -> Neg -> output.
ir::Graph SmallGraph() {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  auto x = b.Input("x", DType::kF32, Shape({2, 3}));
  auto r = b.Op("Relu", {x}, {}, "r");
  auto y = b.Op("Neg", {r}, {}, "y");
  g.AddOutput(y);
  EXPECT_TRUE(ir::InferShapes(g).ok());
  return g;
}

// Renames every Neg to Abs (a valid rewrite); reports whether it did.
class NegToAbs : public Pass {
 public:
  absl::string_view name() const override { return "neg_to_abs"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override {
    bool changed = false;
    for (ir::NodeId id : g.LiveNodes()) {
      if (g.node(id).op_type == "Neg") {
        g.node(id).op_type = "Abs";
        changed = true;
      }
    }
    return changed;
  }
};

// Changes nothing.
class Nothing : public Pass {
 public:
  absl::string_view name() const override { return "nothing"; }
  absl::StatusOr<bool> Run(ir::Graph&) override { return false; }
};

// Breaks the graph: gives Relu an op type no schema knows.
class Breaks : public Pass {
 public:
  absl::string_view name() const override { return "breaks"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override {
    for (ir::NodeId id : g.LiveNodes())
      if (g.node(id).op_type == "Relu") g.node(id).op_type = "NoSuchOp";
    return true;
  }
};

// Fails outright.
class Fails : public Pass {
 public:
  absl::string_view name() const override { return "fails"; }
  absl::StatusOr<bool> Run(ir::Graph&) override {
    return absl::FailedPreconditionError("needs a cache");
  }
};

int Count(const ir::Graph& g, absl::string_view op) {
  int n = 0;
  for (ir::NodeId id : g.LiveNodes()) n += g.node(id).op_type == op;
  return n;
}

TEST(PassPipeline, RunsPassesInOrderAndTimesEach) {
  ir::Graph g = SmallGraph();
  PassPipeline p;
  p.AddPass<Nothing>();
  p.AddPass<NegToAbs>();
  auto changed = p.Run(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(Count(g, "Abs"), 1);
  ASSERT_EQ(p.timings().size(), 2u);
  EXPECT_EQ(p.timings()[0].pass, "nothing");
  EXPECT_FALSE(p.timings()[0].changed);
  EXPECT_EQ(p.timings()[1].pass, "neg_to_abs");
  EXPECT_TRUE(p.timings()[1].changed);
  EXPECT_GE(p.timings()[1].seconds, 0);
  EXPECT_EQ(p.PassNames(), (std::vector<std::string>{"nothing", "neg_to_abs"}));
}

TEST(PassPipeline, SkipsByName) {
  ir::Graph g = SmallGraph();
  PipelineOptions o;
  o.skip = {"neg_to_abs"};
  PassPipeline p(o);
  p.AddPass<NegToAbs>();
  auto changed = p.Run(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed);
  EXPECT_EQ(Count(g, "Neg"), 1);
  ASSERT_EQ(p.timings().size(), 1u);
  EXPECT_TRUE(p.timings()[0].skipped);
}

TEST(PassPipeline, SkippingAnUnknownPassIsAnErrorListingThePipeline) {
  ir::Graph g = SmallGraph();
  PipelineOptions o;
  o.skip = {"neg_to_abz"};
  PassPipeline p(o);
  p.AddPass<Nothing>();
  p.AddPass<NegToAbs>();
  auto changed = p.Run(g);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(changed.status().message().find("'neg_to_abz'"), std::string::npos)
      << changed.status();
  EXPECT_NE(changed.status().message().find("nothing, neg_to_abs"),
            std::string::npos)
      << changed.status();
  EXPECT_EQ(Count(g, "Neg"), 1);  // nothing ran
}

TEST(PassPipeline, DumpsBeforeAndAfterMatchingPassesOnly) {
  ir::Graph g = SmallGraph();
  std::vector<std::string> dumps;
  PipelineOptions o;
  o.dump_regex = "neg_.*";
  o.dump_sink = [&](const std::string& s) { dumps.push_back(s); };
  PassPipeline p(o);
  p.AddPass<Nothing>();
  p.AddPass<NegToAbs>();
  ASSERT_TRUE(p.Run(g).ok());
  ASSERT_EQ(dumps.size(), 2u);
  EXPECT_EQ(dumps[0].rfind("// ---- before neg_to_abs ----\n", 0), 0u);
  EXPECT_NE(dumps[0].find("Neg"), std::string::npos);
  EXPECT_EQ(dumps[1].rfind("// ---- after neg_to_abs ----\n", 0), 0u);
  EXPECT_NE(dumps[1].find("Abs"), std::string::npos);
  EXPECT_EQ(dumps[1].find("Neg"), std::string::npos);
}

TEST(PassPipeline, DumpRegexMustMatchTheWholeName) {
  ir::Graph g = SmallGraph();
  int dumps = 0;
  PipelineOptions o;
  o.dump_regex = "neg";
  o.dump_sink = [&](const std::string&) { ++dumps; };
  PassPipeline p(o);
  p.AddPass<NegToAbs>();
  ASSERT_TRUE(p.Run(g).ok());
  EXPECT_EQ(dumps, 0);
}

TEST(PassPipeline, ABadDumpRegexIsAnErrorNamingIt) {
  ir::Graph g = SmallGraph();
  PipelineOptions o;
  o.dump_regex = "cpu_(";
  PassPipeline p(o);
  p.AddPass<NegToAbs>();
  auto changed = p.Run(g);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(changed.status().message().find("bad dump regex 'cpu_('"),
            std::string::npos)
      << changed.status();
  EXPECT_EQ(Count(g, "Neg"), 1);
}

TEST(PassPipeline, VerifyFailureAfterAPassNamesThePassAndTheNode) {
  ir::Graph g = SmallGraph();
  PassPipeline p;
  p.AddPass<Breaks>();
  p.AddPass<NegToAbs>();
  auto changed = p.Run(g);
  ASSERT_FALSE(changed.ok());
  const std::string msg(changed.status().message());
  EXPECT_EQ(msg.rfind("after pass breaks: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("NoSuchOp"), std::string::npos) << msg;
  EXPECT_EQ(Count(g, "Neg"), 1);  // the pipeline stopped there
}

TEST(PassPipeline, VerificationCanBeTurnedOff) {
  ir::Graph g = SmallGraph();
  PipelineOptions o;
  o.verify = false;
  PassPipeline p(o);
  p.AddPass<Breaks>();
  EXPECT_TRUE(p.Run(g).ok());
}

TEST(PassPipeline, BackendDomainsAreCheckedStructurallyOnly) {
  ir::Graph g = SmallGraph();
  // A backend op with no schema (as the cpu compiler's fusions add) passes
  // when its domain is a backend domain, and fails otherwise.
  class ToBackend : public Pass {
   public:
    absl::string_view name() const override { return "to_backend"; }
    absl::StatusOr<bool> Run(ir::Graph& g) override {
      for (ir::NodeId id : g.LiveNodes()) {
        if (g.node(id).op_type == "Relu") {
          g.node(id).op_type = "FusedRelu";
          g.node(id).domain = "test.backend";
        }
      }
      return true;
    }
  };
  {
    ir::Graph a = g;
    PipelineOptions o;
    o.backend_domains = {"test.backend"};
    PassPipeline p(o);
    p.AddPass<ToBackend>();
    auto r = p.Run(a);
    EXPECT_TRUE(r.ok()) << r.status();
  }
  {
    ir::Graph a = g;
    PassPipeline p;
    p.AddPass<ToBackend>();
    auto r = p.Run(a);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("after pass to_backend: "),
              std::string::npos)
        << r.status();
  }
}

TEST(PassPipeline, APassErrorIsPrefixedWithItsNameAndKeepsItsCode) {
  ir::Graph g = SmallGraph();
  PassPipeline p;
  p.AddPass<Fails>();
  auto changed = p.Run(g);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(changed.status().message(), "in pass fails: needs a cache");
}

}  // namespace
}  // namespace qeff::passes
