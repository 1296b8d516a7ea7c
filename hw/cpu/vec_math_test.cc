#include "hw/cpu/vec_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace qeff::hw::cpu {
namespace {

std::vector<float> Inputs() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          -87.3365447504f,
                          -87.34f,
                          -87.33f,
                          -103.0f,
                          88.37f,
                          88.3762626647949f,
                          89.0f,
                          1e-30f,
                          -1e-30f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::denorm_min()};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> wide(-100.0f, 100.0f), narrow(-3, 3);
  for (int i = 0; i < 20000; ++i) v.push_back(i % 2 ? wide(rng) : narrow(rng));
  // Not a multiple of 16: the masked tail.
  v.resize(v.size() - v.size() % 16 + 7);
  return v;
}

bool SameBits(float a, float b) {
  return std::memcmp(&a, &b, 4) == 0 || (std::isnan(a) && std::isnan(b));
}

// The vector path equals the scalar specification bit for bit, element by
// element (so results never depend on the position in a row).
TEST(VecMath, ExpShiftedEqualsSpecBitForBit) {
  const std::vector<float> in = Inputs();
  for (float shift : {0.0f, 2.5f}) {
    std::vector<float> v = in;
    ExpShifted(v.data(), static_cast<int64_t>(v.size()), shift);
    for (size_t i = 0; i < in.size(); ++i)
      ASSERT_TRUE(SameBits(v[i], ExpF(in[i] - shift)))
          << in[i] << " - " << shift << ": " << v[i] << " vs "
          << ExpF(in[i] - shift);
  }
  // Untouched past n.
  std::vector<float> v = {1, 1, 1};
  ExpShifted(v.data(), 2, 0.0f);
  EXPECT_EQ(v[2], 1.0f);
}

// Softmax's steps equal their specifications (written out here) bit for
// bit at every length, the tails included; past n nothing is touched.
TEST(VecMath, SoftmaxStepsEqualSpecBitForBit) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-30.0f, 30.0f);
  for (int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 100, 1031}) {
    std::vector<float> x(n + 1);
    for (float& v : x) v = u(rng);
    if (n > 3) x[2] = std::numeric_limits<float>::quiet_NaN();
    const float scale = 0.125f;
    std::vector<float> a = x, b = x;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) {
      a[i] *= scale;
      mx = std::max(mx, a[i]);
    }
    EXPECT_TRUE(SameBits(ScaleAndMax(b.data(), n, scale), mx)) << n;
    for (int64_t i = 0; i <= n; ++i) ASSERT_TRUE(SameBits(a[i], b[i])) << i;
    // Sum and divide over positive values (exp's outputs).
    for (float& v : a) v = std::fabs(std::isnan(v) ? 1.0f : v) + 1e-3f;
    b = a;
    double p[8] = {};
    for (int64_t i = 0; i < n; ++i) p[i % 8] += a[i];
    const double sum =
        ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
    const double got = SumAsDouble(b.data(), n);
    EXPECT_EQ(std::memcmp(&got, &sum, sizeof sum), 0) << n;
    if (n == 0) continue;
    for (int64_t i = 0; i < n; ++i)
      a[i] = static_cast<float>(static_cast<double>(a[i]) / sum);
    DivideBy(b.data(), n, sum);
    for (int64_t i = 0; i <= n; ++i) ASSERT_TRUE(SameBits(a[i], b[i])) << i;
  }
}

TEST(VecMath, ExpWithinTwoUlpOfExactAndEdges) {
  double worst = 0;
  for (float x : Inputs()) {
    const double e = std::exp(static_cast<double>(x));
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(ExpF(x)));
      continue;
    }
    if (x < -87.3365447504f) {
      EXPECT_EQ(ExpF(x), 0.0f) << x;
      continue;
    }
    if (x > 88.3762626647949f) {
      EXPECT_EQ(ExpF(x), ExpF(88.3762626647949f)) << x;
      EXPECT_TRUE(std::isfinite(ExpF(x)));
      continue;
    }
    const double ulp =
        std::nextafter(static_cast<float>(e), INFINITY) - static_cast<float>(e);
    worst = std::max(worst, std::fabs(ExpF(x) - e) / ulp);
  }
  std::printf("ExpF: worst error %.2f ulp\n", worst);
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(ExpF(0.0f), 1.0f);
}

TEST(VecMath, SiluMulEqualsSpecAndIsAccurate) {
  const std::vector<float> g = Inputs();
  std::vector<float> u(g.size());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-2.0f, 2.0f);
  for (float& x : u) x = d(rng);
  std::vector<float> y(g.size());
  SiluMul(g.data(), u.data(), y.data(), static_cast<int64_t>(g.size()));
  for (size_t i = 0; i < g.size(); ++i) {
    const float spec = (g[i] / (1.0f + ExpF(-g[i]))) * u[i];
    ASSERT_TRUE(SameBits(y[i], spec)) << g[i];
    if (std::isfinite(g[i]) && std::fabs(g[i]) < 80) {
      const double gd = g[i];
      const double exact = gd / (1.0 + std::exp(-gd)) * u[i];
      EXPECT_NEAR(y[i], exact, 1e-6 * std::fabs(exact) + 1e-30) << g[i];
    }
  }
  // In place (y aliases g).
  std::vector<float> a = g;
  SiluMul(a.data(), u.data(), a.data(), static_cast<int64_t>(a.size()));
  EXPECT_EQ(0, std::memcmp(a.data(), y.data(), 4 * y.size()));
}

}  // namespace
}  // namespace qeff::hw::cpu
