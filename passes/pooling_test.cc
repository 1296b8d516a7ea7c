#include "passes/pooling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "ir/builder.h"
#include "ir/evaluator.h"
#include "ir/op_schema.h"
#include "ir/verifier.h"

namespace qeff::passes {
namespace {

using ir::DType;
using ir::Shape;

constexpr int B = 3, S = 4, H = 2;

// An "encoder" whose last_hidden_state is its input `h`.
ir::Graph Encoder() {
  ir::Graph g;
  ir::GraphBuilder b(&g);
  const Shape bs({ir::Dim::Symbol("batch_size"), ir::Dim::Symbol("seq_len")});
  b.Input("input_ids", DType::kI64, bs);
  b.Input("attention_mask", DType::kI64, bs);
  auto h = b.Input(
      "h", DType::kF32,
      Shape({ir::Dim::Symbol("batch_size"), ir::Dim::Symbol("seq_len"), H}));
  g.AddOutput(b.Op("Identity", {h}, {}, "last_hidden_state"));
  return g;
}

// Rows: all real; 2 real + 2 padding; 1 real + 3 padding. Padding vectors
// hold huge values, so any leak shows.
std::vector<float> Hidden() {
  std::vector<float> h(B * S * H);
  for (int i = 0; i < B * S * H; ++i) h[i] = std::sin(1.7f * i) * 3.0f;
  const int lens[B] = {4, 2, 1};
  for (int b = 0; b < B; ++b)
    for (int s = lens[b]; s < S; ++s)
      for (int d = 0; d < H; ++d) h[(b * S + s) * H + d] = 1e6f;
  return h;
}
const std::vector<int64_t> kMask = {1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0};

// The expected pooled vector of row b, written directly from the
// definitions.
std::vector<float> Expected(Pooling p, bool l2, int b) {
  const std::vector<float> h = Hidden();
  const int lens[B] = {4, 2, 1};
  const int n = lens[b];
  std::vector<float> v(H);
  for (int d = 0; d < H; ++d) {
    auto at = [&](int s) { return h[(b * S + s) * H + d]; };
    float r = 0;
    if (p == Pooling::kMean || p == Pooling::kAvg) {
      for (int s = 0; s < n; ++s) r += at(s);
      r /= n;
    } else if (p == Pooling::kCls) {
      r = at(0);
    } else if (p == Pooling::kLast) {
      r = at(n - 1);
    } else {
      r = at(0);
      for (int s = 1; s < n; ++s) r = std::max(r, at(s));
    }
    v[d] = r;
  }
  if (l2) {
    float ss = 0;
    for (float x : v) ss += x * x;
    for (float& x : v) x /= std::sqrt(ss);
  }
  return v;
}

TEST(PoolingTransform, EveryModeMatchesItsDefinitionAndIgnoresPadding) {
  for (Pooling p : {Pooling::kMean, Pooling::kAvg, Pooling::kCls, Pooling::kMax,
                    Pooling::kLast}) {
    for (bool l2 : {false, true}) {
      SCOPED_TRACE(std::string(PoolingName(p)) + (l2 ? " l2" : ""));
      ir::Graph g = Encoder();
      PoolingTransform pass({p, l2});
      auto changed = pass.Run(g);
      ASSERT_TRUE(changed.ok()) << changed.status();
      ASSERT_TRUE(ir::InferShapes(g).ok());
      ASSERT_TRUE(ir::VerifyGraph(g).ok()) << ir::VerifyGraph(g);
      ASSERT_EQ(g.outputs().size(), 1u);
      EXPECT_EQ(g.value(g.outputs()[0]).name, "output");
      EXPECT_EQ(g.value(g.outputs()[0]).type.shape.ToString(),
                "[batch_size, 2]");
      auto out = ir::Evaluator::Run(
          g, {{"input_ids",
               ir::Tensor::I64({B, S}, std::vector<int64_t>(B * S, 1))},
              {"attention_mask", ir::Tensor::I64({B, S}, kMask)},
              {"h", ir::Tensor::F32({B, S, H}, Hidden())}});
      ASSERT_TRUE(out.ok()) << out.status();
      ASSERT_EQ((*out)[0].dims(), (std::vector<int64_t>{B, H}));
      for (int b = 0; b < B; ++b) {
        std::vector<float> e = Expected(p, l2, b);
        for (int d = 0; d < H; ++d)
          EXPECT_NEAR((*out)[0].GetDouble(b * H + d), e[d],
                      1e-5 * std::max(1.0f, std::fabs(e[d])))
              << "row " << b << " dim " << d;
      }
    }
  }
}

TEST(PoolingTransform, RejectsNoneAndNonEncoders) {
  EXPECT_FALSE(ParsePooling("none").ok());
  EXPECT_NE(ParsePooling("none").status().message().find("mean, avg"),
            std::string::npos);
  ir::Graph g;
  ir::GraphBuilder b(&g);
  g.AddOutput(b.Input("x", DType::kF32, Shape({2})));
  PoolingTransform pass;
  auto r = pass.Run(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("attention_mask"), std::string::npos);
}

}  // namespace
}  // namespace qeff::passes
