#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hw/cpu/linear_internal.h"
#include "ir/quant.h"

namespace qeff::hw::cpu::linear {
namespace {

struct Case {
  std::vector<uint8_t> w;
  std::vector<float> wf;  // dequantized / decoded weights [N, K]
  std::vector<float> x;
  LinearArgs a;
};

Case MakeCase(ir::QuantFormat q, ir::DType dt, int64_t M, int64_t K, int64_t N,
              uint32_t seed) {
  Case c;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  c.x.resize(M * K);
  for (float& v : c.x) v = u(rng);
  c.wf.resize(N * K);
  for (float& v : c.wf) v = u(rng) * 0.1f;
  c.a.dtype = dt;
  c.a.quant = q;
  if (q != ir::QuantFormat::kNone) {
    const ir::QuantBlockInfo qi = ir::QuantInfo(q);
    c.a.block = qi.block_values;
    c.a.block_bytes = qi.block_bytes;
    c.a.row_bytes = K / qi.block_values * qi.block_bytes;
    c.w.resize(N * c.a.row_bytes);
    for (int64_t b = 0; b < N * K / qi.block_values; ++b) {
      EXPECT_TRUE(ir::QuantizeBlock(q, c.wf.data() + b * qi.block_values,
                                    c.w.data() + b * qi.block_bytes)
                      .ok());
      EXPECT_TRUE(ir::DequantizeBlock(q, c.w.data() + b * qi.block_bytes,
                                      c.wf.data() + b * qi.block_values)
                      .ok());
    }
  } else if (dt == ir::DType::kF32) {
    c.a.row_bytes = K * 4;
    c.w.resize(N * K * 4);
    std::memcpy(c.w.data(), c.wf.data(), c.w.size());
  } else {  // f16
    c.a.row_bytes = K * 2;
    c.w.resize(N * K * 2);
    for (int64_t i = 0; i < N * K; ++i) {
      const uint16_t h = ir::FloatToHalf(c.wf[i]);
      std::memcpy(c.w.data() + 2 * i, &h, 2);
      c.wf[i] = ir::HalfToFloat(h);
    }
  }
  c.a.w = c.w.data();
  c.a.x = c.x.data();
  c.a.M = M;
  c.a.K = K;
  c.a.N = N;
  return c;
}

// max |y - ref| / max |ref| with ref a double dot on the decoded weights.
double RelErr(const Case& c, const std::vector<float>& y) {
  double num = 0, den = 1e-30;
  for (int64_t i = 0; i < c.a.M; ++i)
    for (int64_t j = 0; j < c.a.N; ++j) {
      double r = 0;
      for (int64_t k = 0; k < c.a.K; ++k)
        r += double(c.x[i * c.a.K + k]) * c.wf[j * c.a.K + k];
      num = std::max(num, std::fabs(y[i * c.a.N + j] - r));
      den = std::max(den, std::fabs(r));
    }
  return num / den;
}

std::vector<float> RunLinear(Case& c, void (*fn)(const LinearArgs&, QPath),
                             QPath path) {
  std::vector<float> y(c.a.M * c.a.N, -1.0f);
  c.a.y = y.data();
  fn(c.a, path);
  return y;
}

// Rows computed alone equal the same rows computed in a batch, bit for bit.
void ExpectBatchInvariant(Case& c, const std::vector<float>& y,
                          void (*fn)(const LinearArgs&, QPath), QPath path) {
  for (int64_t i = 0; i < c.a.M; ++i) {
    LinearArgs one = c.a;
    one.M = 1;
    one.x = c.x.data() + i * c.a.K;
    std::vector<float> yi(c.a.N);
    one.y = yi.data();
    fn(one, path);
    ASSERT_EQ(0, std::memcmp(yi.data(), y.data() + i * c.a.N, 4 * c.a.N))
        << "row " << i;
  }
}

void Q8Act(const LinearArgs& a, QPath p) { LinearQ8Act(a, p); }
void FloatAvx(const LinearArgs& a, QPath) { LinearFloatAvx512(a); }

class QLinear : public ::testing::TestWithParam<ir::QuantFormat> {};

TEST_P(QLinear, ScalarWithinBoundAndBatchInvariant) {
  // K = 800: an odd number of blocks (the padded last pair).
  for (int64_t K : {64, 800, 2048}) {
    Case c = MakeCase(GetParam(), ir::DType::kF32, 7, K, 45, 1 + K);
    std::vector<float> y = RunLinear(c, Q8Act, QPath::kScalar);
    // Activation quantization: |x - d q| <= d / 2 = amax / 254 per value;
    // measured 3.7e-3 .. 5.7e-3 (max |dy| / max |y|) on these cases.
    const double err = RelErr(c, y);
    std::printf("%s K=%lld: rel err %.3g\n",
                std::string(ir::QuantFormatName(GetParam())).c_str(),
                static_cast<long long>(K), err);
    EXPECT_LT(err, 1e-2) << K;
    ExpectBatchInvariant(c, y, Q8Act, QPath::kScalar);
  }
}

TEST_P(QLinear, VnniEqualsScalarBitForBit) {
#if defined(__x86_64__)
  if (!HasAvx512Vnni()) GTEST_SKIP() << "host has no AVX-512 VNNI";
  for (int64_t K : {32, 96, 800, 2048}) {
    Case c = MakeCase(GetParam(), ir::DType::kF32, 9, K, 37, 7 + K);
    std::vector<float> ys = RunLinear(c, Q8Act, QPath::kScalar);
    std::vector<float> yv = RunLinear(c, Q8Act, QPath::kVnni);
    ASSERT_EQ(0, std::memcmp(ys.data(), yv.data(), 4 * ys.size())) << K;
    ExpectBatchInvariant(c, yv, Q8Act, QPath::kVnni);
  }
#else
  GTEST_SKIP() << "not x86-64";
#endif
}

// The small-M kernel on the original blocks equals the repacked kernel and
// the scalar specification bit for bit (odd block counts, padded features).
TEST_P(QLinear, DirectEqualsPackedAndScalarBitForBit) {
#if defined(__x86_64__)
  if (!HasAvx512Vnni()) GTEST_SKIP() << "host has no AVX-512 VNNI";
  for (int64_t K : {32, 96, 224, 800}) {
    for (int64_t M = 1; M <= 5; ++M) {
      for (bool bias : {false, true}) {
        Case c = MakeCase(GetParam(), ir::DType::kF32, M, K, 45, 11 + K + M);
        std::vector<float> b(c.a.N);
        for (int64_t j = 0; j < c.a.N; ++j) b[j] = 0.01f * (j - 20);
        if (bias) c.a.bias = b.data();
        std::vector<float> yd = RunLinear(c, Q8Act, QPath::kVnniDirect);
        std::vector<float> yp = RunLinear(c, Q8Act, QPath::kVnniPacked);
        std::vector<float> ys = RunLinear(c, Q8Act, QPath::kScalar);
        std::vector<float> ya = RunLinear(c, Q8Act, QPath::kVnni);
        ASSERT_EQ(0, std::memcmp(yd.data(), yp.data(), 4 * yd.size()))
            << "K=" << K << " M=" << M;
        ASSERT_EQ(0, std::memcmp(yd.data(), ys.data(), 4 * yd.size()))
            << "K=" << K << " M=" << M;
        ASSERT_EQ(0, std::memcmp(yd.data(), ya.data(), 4 * yd.size()))
            << "K=" << K << " M=" << M;
        ExpectBatchInvariant(c, yd, Q8Act, QPath::kVnniDirect);
      }
    }
  }
#else
  GTEST_SKIP() << "not x86-64";
#endif
}

INSTANTIATE_TEST_SUITE_P(Formats, QLinear,
                         ::testing::Values(ir::QuantFormat::kQ8_0,
                                           ir::QuantFormat::kQ4_0));

TEST(FloatAvx512, ExactWithinToleranceAndBatchInvariant) {
#if defined(__x86_64__)
  if (!HasAvx512()) GTEST_SKIP() << "host has no AVX-512";
  for (ir::DType dt : {ir::DType::kF32, ir::DType::kF16}) {
    for (int64_t K : {16, 784, 2048}) {
      Case c = MakeCase(ir::QuantFormat::kNone, dt, 13, K, 37, 3 + K);
      ASSERT_TRUE(FloatAvx512Applies(c.a));
      std::vector<float> y = RunLinear(c, FloatAvx, QPath::kScalar);
      EXPECT_LT(RelErr(c, y), 1e-6) << K;
      ExpectBatchInvariant(c, y, FloatAvx, QPath::kScalar);
    }
  }
  Case c = MakeCase(ir::QuantFormat::kMXFP6, ir::DType::kF32, 5, 512, 20, 5);
  ASSERT_TRUE(FloatAvx512Applies(c.a));
  std::vector<float> y = RunLinear(c, FloatAvx, QPath::kScalar);
  EXPECT_LT(RelErr(c, y), 1e-6);
#else
  GTEST_SKIP() << "not x86-64";
#endif
}

}  // namespace
}  // namespace qeff::hw::cpu::linear
