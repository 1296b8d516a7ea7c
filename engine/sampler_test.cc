// The sampler against distributions worked out by hand, a chi-square test
// that its draws follow them, greedy at temperature 0, seeded
// reproducibility, and the penalties.
#include "engine/sampler.h"

#include <cmath>
#include <map>

#include "gtest/gtest.h"

namespace qeff::engine {
namespace {

const std::vector<float> kLogits = {2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -1.0f};

// Chi-square of `n` draws against `expected` (cells with expected mass 0
// must never be drawn).
double ChiSquare(Sampler& s, const std::vector<double>& expected, int n,
                 const std::vector<float>& logits = kLogits) {
  std::vector<int> counts(expected.size(), 0);
  for (int i = 0; i < n; ++i)
    ++counts[s.Sample(logits.data(), logits.size(), {}, {})];
  double chi = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " is filtered out";
      continue;
    }
    const double e = expected[i] * n;
    chi += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi;
}

TEST(Sampler, TemperatureZeroIsGreedyLowestIdOnTies) {
  Sampler s({});
  EXPECT_EQ(s.Sample(kLogits.data(), 6, {}, {}), 0);
  const std::vector<float> tie = {0.5f, 3.0f, 3.0f};
  EXPECT_EQ(s.Sample(tie.data(), 3, {}, {}), 1);
}

TEST(Sampler, TopKTopPMinPByHand) {
  // T = 1, top-k 4: softmax over e^2, e^1.5, e^1, e^0.5.
  const double z =
      std::exp(2.0) + std::exp(1.5) + std::exp(1.0) + std::exp(0.5);
  const double p0 = std::exp(2.0) / z, p1 = std::exp(1.5) / z,
               p2 = std::exp(1.0) / z, p3 = std::exp(0.5) / z;
  SamplingParams sp;
  sp.temperature = 1.0f;
  sp.top_k = 4;
  Sampler k4(sp);
  std::vector<double> d = k4.Distribution(kLogits.data(), 6, {}, {});
  EXPECT_NEAR(d[0], p0, 1e-12);
  EXPECT_NEAR(d[3], p3, 1e-12);
  EXPECT_EQ(d[4], 0);
  EXPECT_EQ(d[5], 0);
  // top-p 0.75: p0 + p1 = 0.72.. < 0.75, so three tokens stay.
  ASSERT_LT(p0 + p1, 0.75);
  ASSERT_GE(p0 + p1 + p2, 0.75);
  sp.top_p = 0.75f;
  d = Sampler(sp).Distribution(kLogits.data(), 6, {}, {});
  const double z3 = p0 + p1 + p2;
  EXPECT_NEAR(d[0], p0 / z3, 1e-12);
  EXPECT_NEAR(d[2], p2 / z3, 1e-12);
  EXPECT_EQ(d[3], 0);
  // min-p 0.5: p2 / p0 = e^-1 < 0.5 drops token 2; p1 / p0 = e^-0.5 stays.
  sp.min_p = 0.5f;
  d = Sampler(sp).Distribution(kLogits.data(), 6, {}, {});
  EXPECT_NEAR(d[0], p0 / (p0 + p1), 1e-12);
  EXPECT_EQ(d[2], 0);
}

TEST(Sampler, DrawsFollowTheDistributionChiSquare) {
  struct Case {
    float temperature;
    int64_t top_k;
    float top_p, min_p;
  };
  // 99.9th percentile of chi-square with 5 degrees of freedom: 20.52.
  for (const Case& c : {Case{1.0f, 0, 1.0f, 0.0f}, Case{0.7f, 4, 1.0f, 0.0f},
                        Case{1.3f, 0, 0.9f, 0.0f}, Case{1.0f, 0, 1.0f, 0.2f}}) {
    SamplingParams sp;
    sp.temperature = c.temperature;
    sp.top_k = c.top_k;
    sp.top_p = c.top_p;
    sp.min_p = c.min_p;
    sp.seed = 1234;
    Sampler s(sp);
    const std::vector<double> want = s.Distribution(kLogits.data(), 6, {}, {});
    int cells = 0;
    for (double w : want) cells += w > 0;
    ASSERT_GE(cells, 2);
    const double chi = ChiSquare(s, want, 20000);
    EXPECT_LT(chi, 20.52) << "T " << c.temperature << " k " << c.top_k << " p "
                          << c.top_p << " min_p " << c.min_p;
  }
}

TEST(Sampler, SeededDrawsAreReproducible) {
  SamplingParams sp;
  sp.temperature = 1.0f;
  sp.seed = 7;
  Sampler a(sp), b(sp);
  std::vector<int64_t> xa, xb;
  for (int i = 0; i < 200; ++i) {
    xa.push_back(a.Sample(kLogits.data(), 6, {}, {}));
    xb.push_back(b.Sample(kLogits.data(), 6, {}, {}));
  }
  EXPECT_EQ(xa, xb);
  sp.seed = 8;
  Sampler c(sp);
  std::vector<int64_t> xc;
  for (int i = 0; i < 200; ++i)
    xc.push_back(c.Sample(kLogits.data(), 6, {}, {}));
  EXPECT_NE(xa, xc);
}

TEST(Sampler, PenaltiesAsQEfficient) {
  SamplingParams sp;
  sp.repetition_penalty = 2.0f;  // positive logits halve, negative double
  sp.presence_penalty = 0.5f;    // once per distinct generated id
  sp.temperature = 1.0f;
  Sampler s(sp);
  const std::vector<double> d = s.Distribution(
      kLogits.data(), 6, /*prompt=*/{0, 5}, /*generated=*/{1, 1});
  // Logits after penalties: 2/2 = 1, 1.5/2 - 0.5 = 0.25, 1, 0.5, 0, -1*2 = -2.
  const double l[] = {1.0, 0.25, 1.0, 0.5, 0.0, -2.0};
  double z = 0;
  for (double x : l) z += std::exp(x);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(d[i], std::exp(l[i]) / z, 1e-12) << i;
}

TEST(Sampler, BadParametersNameTheField) {
  SamplingParams sp;
  sp.temperature = -1;
  EXPECT_NE(ValidateSamplingParams(sp).message().find("temperature"),
            std::string::npos);
  sp = {};
  sp.top_p = 0;
  EXPECT_NE(ValidateSamplingParams(sp).message().find("top_p"),
            std::string::npos);
  sp = {};
  sp.repetition_penalty = 0;
  EXPECT_NE(ValidateSamplingParams(sp).message().find("repetition_penalty"),
            std::string::npos);
  EXPECT_TRUE(ValidateSamplingParams({}).ok());
}

}  // namespace
}  // namespace qeff::engine
