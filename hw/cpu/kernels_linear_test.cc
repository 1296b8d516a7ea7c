#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
      uint8_t* blk = c.w.data() + b * qi.block_bytes;
      if (q == ir::QuantFormat::kQ4_K) {
        // No quantizer here: random scales and quants, small d and dmin.
        for (int64_t i = 0; i < qi.block_bytes; ++i) blk[i] = rng() & 255;
        const uint16_t d = ir::FloatToHalf(0.002f + 0.001f * (rng() % 4));
        std::memcpy(blk, &d, 2);
        std::memcpy(blk + 2, &d, 2);
      } else {
        EXPECT_TRUE(
            ir::QuantizeBlock(q, c.wf.data() + b * qi.block_values, blk).ok());
      }
      EXPECT_TRUE(ir::DequantizeBlock(q, c.w.data() + b * qi.block_bytes,
                                      c.wf.data() + b * qi.block_values)
                      .ok());
    }
  } else if (dt == ir::DType::kF32) {
    c.a.row_bytes = K * 4;
    c.w.resize(N * K * 4);
    std::memcpy(c.w.data(), c.wf.data(), c.w.size());
  } else if (dt == ir::DType::kF16) {
    c.a.row_bytes = K * 2;
    c.w.resize(N * K * 2);
    for (int64_t i = 0; i < N * K; ++i) {
      const uint16_t h = ir::FloatToHalf(c.wf[i]);
      std::memcpy(c.w.data() + 2 * i, &h, 2);
      c.wf[i] = ir::HalfToFloat(h);
    }
  } else {  // bf16: truncated (the exact decoding is all that is tested)
    c.a.row_bytes = K * 2;
    c.w.resize(N * K * 2);
    for (int64_t i = 0; i < N * K; ++i) {
      uint32_t u;
      std::memcpy(&u, &c.wf[i], 4);
      const uint16_t h = static_cast<uint16_t>(u >> 16);
      std::memcpy(c.w.data() + 2 * i, &h, 2);
      u = static_cast<uint32_t>(h) << 16;
      std::memcpy(&c.wf[i], &u, 4);
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
    if (K % ir::QuantInfo(GetParam()).block_values) continue;
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
    if (K % ir::QuantInfo(GetParam()).block_values) continue;
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
  for (int64_t K : {32, 96, 224, 256, 768, 800}) {
    if (K % ir::QuantInfo(GetParam()).block_values) continue;
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

// The panel-packed quantized layout: unpacking gives the rows back byte for
// byte, and the packed kernel (VNNI where the host has it, and the unpacked
// fallback) equals the row layout's LinearQ8Act bit for bit, for M across
// decode / tile boundaries, N not a multiple of 16, with and without bias;
// batch-invariant.
TEST_P(QLinear, PackedPanelsEqualRowsBitForBit) {
  const ir::QuantFormat q = GetParam();
  for (int64_t K : {256, 768, 2048}) {
    for (int64_t N : {16, 40, 100}) {
      for (int64_t M : {1, 2, 3, 4, 5, 9, 70}) {
        Case c = MakeCase(q, ir::DType::kF32, M, K, N, 3 * K + N + M);
        std::vector<float> b(N);
        for (int64_t j = 0; j < N; ++j) b[j] = 0.01f * (j - 20);
        if (N == 40) c.a.bias = b.data();
        auto rows =
            ir::Tensor::FromQuantized(q, ir::DType::kF32, {N, K},
                                      ir::Buffer::Copy(c.w.data(), c.w.size()));
        ASSERT_TRUE(rows.ok());
        const ir::Tensor packed = PackQuantPanels(*rows);
        const int64_t P = (N + 15) / 16;
        ASSERT_EQ(packed.dims(), (std::vector<int64_t>{P, 16, K}));
        ASSERT_EQ(packed.byte_size(), P * 16 * c.a.row_bytes);
        const int64_t pb = packed.byte_size() / P;
        for (int64_t p = 0; p < P; ++p) {
          std::vector<uint8_t> back(16 * c.a.row_bytes);
          UnpackQuantPanel(q, packed.raw() + p * pb, K, back.data());
          const int64_t nf = std::min<int64_t>(16, N - 16 * p);
          ASSERT_EQ(
              0, std::memcmp(back.data(), c.w.data() + 16 * p * c.a.row_bytes,
                             nf * c.a.row_bytes))
              << "panel " << p;
        }
        const std::string what =
            absl::StrCat(ir::QuantFormatName(q), " K=", K, " N=", N, " M=", M);
        std::vector<float> yr = RunLinear(c, Q8Act, QPath::kScalar);
        for (QPath path : {QPath::kVnni, QPath::kScalar}) {
          std::vector<float> yp(M * N, -5.0f);
          ASSERT_TRUE(RunPackedQLinear(q, packed.raw(), N, K, c.x.data(), M,
                                       c.a.bias, yp.data(), path)
                          .ok());
#if defined(__x86_64__)
          // The fallback runs the host's row path: on a host without VNNI
          // that is the exact f32 path, not the int8 specification.
          if (path == QPath::kScalar || HasAvx512Vnni())
#endif
            ASSERT_EQ(0, std::memcmp(yp.data(), yr.data(), 4 * yr.size()))
                << what << (path == QPath::kScalar ? " fallback" : " vnni");
          if (M == 5 && path == QPath::kVnni) {
            for (int64_t i = 0; i < M; ++i) {
              std::vector<float> yi(N);
              ASSERT_TRUE(RunPackedQLinear(q, packed.raw(), N, K,
                                           c.x.data() + i * K, 1, c.a.bias,
                                           yi.data())
                              .ok());
              ASSERT_EQ(0, std::memcmp(yi.data(), yp.data() + i * N, 4 * N))
                  << what << " row " << i;
            }
          }
        }
      }
    }
  }
  EXPECT_FALSE(
      RunPackedQLinear(q, nullptr, 16, 48, nullptr, 1, nullptr, nullptr).ok());
}

INSTANTIATE_TEST_SUITE_P(Formats, QLinear,
                         ::testing::Values(ir::QuantFormat::kQ8_0,
                                           ir::QuantFormat::kQ4_0,
                                           ir::QuantFormat::kQ4_K));

// The AVX-512 float kernel equals its scalar specification bit for bit
// (every weight encoding it takes; M across the micro-tile and chunk edges,
// features that are not whole panels, with and without bias), stays within
// a float dot's error of the double reference, and is batch-invariant.
TEST(FloatAvx512, EqualsSpecBitForBitAndBatchInvariant) {
#if defined(__x86_64__)
  if (!HasAvx512()) GTEST_SKIP() << "host has no AVX-512";
  struct Enc {
    ir::QuantFormat q;
    ir::DType dt;
  };
  const Enc encs[] = {{ir::QuantFormat::kNone, ir::DType::kF32},
                      {ir::QuantFormat::kNone, ir::DType::kF16},
                      {ir::QuantFormat::kNone, ir::DType::kBF16},
                      {ir::QuantFormat::kQ8_0, ir::DType::kF32},
                      {ir::QuantFormat::kQ4_K, ir::DType::kF32},
                      {ir::QuantFormat::kMXFP6, ir::DType::kF32}};
  for (const Enc& e : encs) {
    for (int64_t K : {16, 160, 768, 2048}) {
      if (e.q != ir::QuantFormat::kNone &&
          K % ir::QuantInfo(e.q).block_values != 0)
        continue;
      for (int64_t M : {1, 6, 13}) {
        for (int64_t N : {16, 37, 100}) {
          Case c = MakeCase(e.q, e.dt, M, K, N, 3 + K + M + N);
          std::vector<float> b(N);
          for (int64_t j = 0; j < N; ++j) b[j] = 0.01f * (j - 20);
          if (N == 37) c.a.bias = b.data();
          ASSERT_TRUE(FloatAvx512Applies(c.a));
          std::vector<float> y = RunLinear(c, FloatAvx, QPath::kScalar);
          std::vector<float> ys(M * N, -2.0f);
          LinearArgs spec = c.a;
          spec.y = ys.data();
          LinearFloatSpec(spec, c.wf.data());
          ASSERT_EQ(0, std::memcmp(y.data(), ys.data(), 4 * y.size()))
              << ir::QuantFormatName(e.q) << " " << ir::DTypeName(e.dt)
              << " K=" << K << " M=" << M << " N=" << N;
          if (!c.a.bias) {
            // One f32 chain of K terms (bound, not a measurement).
            EXPECT_LT(RelErr(c, y), 5e-6) << K;
          }
          if (M == 6) ExpectBatchInvariant(c, y, FloatAvx, QPath::kScalar);
        }
      }
    }
  }
#else
  GTEST_SKIP() << "not x86-64";
#endif
}

// The packed-panel kernels (the cpu compiler's layout for float weights):
// AVX-512 and portable paths equal the scalar specification bit for bit for
// every dtype, any K (not only multiples of 16), M across micro-tile and
// decode/prefill boundaries, N not a multiple of 16, with and without bias.
TEST(PackedLinear, EqualsSpecBitForBit) {
  for (ir::DType dt : {ir::DType::kF32, ir::DType::kF16}) {
    for (int64_t K : {5, 16, 40, 768, 2048}) {
      for (int64_t M : {1, 4, 5, 7, 13}) {
        for (int64_t N : {1, 16, 37, 100}) {
          Case c = MakeCase(ir::QuantFormat::kNone, dt, M, K, N, K + 5 * M + N);
          std::vector<float> b(N);
          for (int64_t j = 0; j < N; ++j) b[j] = 0.01f * (j - 20);
          if (N == 37) c.a.bias = b.data();
          ir::Tensor rows = ir::Tensor::Zeros(dt, {N, K});
          std::memcpy(rows.mutable_raw(), c.w.data(), c.w.size());
          const ir::Tensor packed = PackPanels(rows);
          ASSERT_EQ(packed.dims(),
                    (std::vector<int64_t>{(N + 15) / 16, K, 16}));
          std::vector<float> ys(M * N, -2.0f), yk(M * N, -3.0f),
              yp(M * N, -4.0f);
          LinearArgs spec = c.a;
          spec.y = ys.data();
          LinearFloatSpec(spec, c.wf.data());
          ASSERT_TRUE(RunPackedLinear(dt, packed.raw(), N, K, c.x.data(), M,
                                      c.a.bias, yk.data())
                          .ok());
          LinearArgs port = c.a;
          port.w = packed.raw();
          port.y = yp.data();
          LinearPackedPortable(port);
          const std::string what =
              absl::StrCat(ir::DTypeName(dt), " K=", K, " M=", M, " N=", N);
          ASSERT_EQ(0, std::memcmp(yk.data(), ys.data(), 4 * ys.size()))
              << what;
          ASSERT_EQ(0, std::memcmp(yp.data(), ys.data(), 4 * ys.size()))
              << what;
        }
      }
    }
  }
  EXPECT_FALSE(RunPackedLinear(ir::DType::kI64, nullptr, 1, 1, nullptr, 1,
                               nullptr, nullptr)
                   .ok());
}

// bf16 bits of v (truncated) with the exponent replaced by e (biased).
uint16_t Bf16WithExponent(float v, int e) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return static_cast<uint16_t>(((u >> 16) & 0x807fu) | (e << 7));
}

// bf16 weights (the "bf16 pairs" arithmetic): every path — vdpbf16ps where
// the host has it, its AVX-512F emulation, portable, and RunPackedLinear's
// pick — equals LinearBf16Spec bit for bit: odd and even K, M across
// micro-tile and decode/prefill boundaries, N not a multiple of 16, bias;
// weights and activations over the whole exponent range (denormal inputs,
// products and sums that flush, cancellations).
TEST(PackedLinearBf16, EveryPathEqualsSpecBitForBit) {
  std::mt19937 rng(7);
  for (int64_t K : {1, 5, 16, 40, 257, 768}) {
    for (int64_t M : {1, 4, 5, 7, 13}) {
      for (int64_t N : {1, 16, 37}) {
        for (bool wide : {false, true}) {
          Case c = MakeCase(ir::QuantFormat::kNone, ir::DType::kBF16, M, K, N,
                            K + 5 * M + N);
          if (wide) {
            // Exponents 0 (denormal) .. 254 in weights, activations near the
            // f32 minimum and maximum.
            for (int64_t i = 0; i < N * K; ++i) {
              const uint16_t h =
                  Bf16WithExponent(c.wf[i], i % 3 ? 127 : rng() % 255);
              std::memcpy(c.w.data() + 2 * i, &h, 2);
            }
            for (int64_t i = 0; i < M * K; ++i)
              if (i % 4 == 0) c.x[i] = std::ldexp(c.x[i], -126 + rng() % 8);
          }
          std::vector<float> b(N);
          for (int64_t j = 0; j < N; ++j) b[j] = 0.01f * (j - 20);
          if (N == 37) c.a.bias = b.data();
          ir::Tensor rows = ir::Tensor::Zeros(ir::DType::kBF16, {N, K});
          std::memcpy(rows.mutable_raw(), c.w.data(), c.w.size());
          const ir::Tensor packed = PackPanels(rows);
          ASSERT_EQ(packed.dims(),
                    (std::vector<int64_t>{(N + 15) / 16, K + K % 2, 16}));
          std::vector<float> ys(M * N, -2.0f);
          LinearArgs spec = c.a;
          spec.y = ys.data();
          LinearBf16Spec(spec, reinterpret_cast<const uint16_t*>(c.w.data()));
          const std::string what =
              absl::StrCat("K=", K, " M=", M, " N=", N, " wide=", wide);
          for (Bf16Path path : {Bf16Path::kDpbf16, Bf16Path::kEmulated,
                                Bf16Path::kPortable, Bf16Path::kBest}) {
            std::vector<float> y(M * N, -3.0f);
            if (path == Bf16Path::kBest) {
              ASSERT_TRUE(RunPackedLinear(ir::DType::kBF16, packed.raw(), N, K,
                                          c.x.data(), M, c.a.bias, y.data())
                              .ok());
            } else {
              LinearArgs a = c.a;
              a.w = packed.raw();
              a.y = y.data();
              LinearPackedBf16(a, path);
            }
            ASSERT_EQ(0, std::memcmp(y.data(), ys.data(), 4 * ys.size()))
                << what << " path " << static_cast<int>(path);
          }
          if (!wide && !c.a.bias) {
            // bf16 activations (relative rounding <= 2^-9 each).
            EXPECT_LT(RelErr(c, ys), 0.01) << what;
          }
        }
      }
    }
  }
#if defined(__x86_64__)
  if (!HasAvx512Bf16())
    std::printf(
        "this host has no AVX-512 BF16: kDpbf16 ran the portable "
        "path\n");
#endif
}

// ActivationToBf16: round to nearest even, NaN kept quiet, a result
// with a zero exponent flushed to a zero of its sign.
TEST(PackedLinearBf16, ActivationRounding) {
  EXPECT_EQ(ActivationToBf16(1.0f), 0x3f80);
  EXPECT_EQ(ActivationToBf16(-2.0f), 0xc000);
  // 1 + 2^-8 is a tie: to even (1.0); 1 + 3 * 2^-8 rounds up.
  EXPECT_EQ(ActivationToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(ActivationToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(ActivationToBf16(std::ldexp(1.0f, -130)), 0x0000);
  EXPECT_EQ(ActivationToBf16(-std::ldexp(1.0f, -130)), 0x8000);
  EXPECT_EQ(ActivationToBf16(std::ldexp(1.0f, -126)), 0x0080);
  EXPECT_EQ(ActivationToBf16(std::nanf("")) & 0x7fc0, 0x7fc0);
}

}  // namespace
}  // namespace qeff::hw::cpu::linear
