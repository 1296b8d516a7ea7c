#include "ir/quant.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace qeff::ir {
namespace {

TEST(Quant, Q8_0KnownBlock) {
  uint8_t b[34] = {};
  uint16_t d = FloatToHalf(0.5f);
  std::memcpy(b, &d, 2);
  b[2] = 4;
  b[3] = static_cast<uint8_t>(-3);
  float y[32];
  ASSERT_TRUE(DequantizeBlock(QuantFormat::kQ8_0, b, y).ok());
  EXPECT_EQ(y[0], 2.0f);
  EXPECT_EQ(y[1], -1.5f);
  EXPECT_EQ(y[2], 0.0f);
}

}  // namespace
}  // namespace qeff::ir

namespace qeff::ir {
namespace {

void PutHalf(uint8_t* p, float v) {
  uint16_t h = FloatToHalf(v);
  std::memcpy(p, &h, 2);
}

TEST(Quant, Q4_0KnownBlock) {
  uint8_t b[18] = {};
  PutHalf(b, 2.0f);
  b[2] = 0xF0;  // element 0: 0 - 8, element 16: 15 - 8
  for (int j = 1; j < 16; ++j) b[2 + j] = 0x88;
  float y[32];
  ASSERT_TRUE(DequantizeBlock(QuantFormat::kQ4_0, b, y).ok());
  EXPECT_EQ(y[0], -16.0f);
  EXPECT_EQ(y[16], 14.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[31], 0.0f);
}

TEST(Quant, Q4_KKnownBlock) {
  uint8_t b[144] = {};
  PutHalf(b, 1.0f);      // d
  PutHalf(b + 2, 0.5f);  // dmin
  uint8_t* sc = b + 4;
  sc[0] = 2 | (1 << 6);  // sub-block 0 scale 2; high bits of sub-block 4
  sc[4] = 1;             // sub-block 0 min 1
  sc[8] = 0x21;          // sub-block 4: scale low 1, min low 2
  uint8_t* qs = b + 16;
  qs[0] = 0x35;   // y[0] (low nibble 5), y[32] (high nibble 3)
  qs[64] = 0x03;  // y[128]
  std::vector<float> y(256);
  ASSERT_TRUE(DequantizeBlock(QuantFormat::kQ4_K, b, y.data()).ok());
  EXPECT_EQ(y[0], 2 * 5 - 0.5f);
  EXPECT_EQ(y[1], -0.5f);
  EXPECT_EQ(y[32], 0.0f);                // sub-block 1: scale 0, min 0
  EXPECT_EQ(y[128], 17 * 3 - 0.5f * 2);  // scale 1 | 1 << 4, min 2
}

TEST(Quant, Q5_KKnownBlock) {
  uint8_t b[176] = {};
  PutHalf(b, 1.0f);
  PutHalf(b + 2, 0.0f);
  b[4] = 1;      // sub-block 0 scale
  b[5] = 2;      // sub-block 1 scale
  b[16] = 3;     // qh[0]: bit 0 -> y[0] +16, bit 1 -> y[32] +16
  b[48] = 0x0F;  // qs[0]: y[0] low nibble 15, y[32] high nibble 0
  std::vector<float> y(256);
  ASSERT_TRUE(DequantizeBlock(QuantFormat::kQ5_K, b, y.data()).ok());
  EXPECT_EQ(y[0], 31.0f);
  EXPECT_EQ(y[32], 32.0f);
  EXPECT_EQ(y[1], 0.0f);
}

TEST(Quant, Q6_KKnownBlock) {
  uint8_t b[210] = {};
  b[0] = 0x07;    // ql[0]
  b[128] = 0x02;  // qh[0]: bits 0-1 = 2 -> q = 7 | 32 = 39 -> 7
  int8_t* sc = reinterpret_cast<int8_t*>(b + 192);
  sc[0] = 3;
  sc[4] = -1;
  PutHalf(b + 208, 0.5f);
  std::vector<float> y(256);
  ASSERT_TRUE(DequantizeBlock(QuantFormat::kQ6_K, b, y.data()).ok());
  EXPECT_EQ(y[0], 0.5f * 3 * 7);
  EXPECT_EQ(y[64], 0.5f * -1 * -32);  // q3 = 0 - 32, scale sc[4]
  EXPECT_EQ(y[1], 0.5f * 3 * -32);
  EXPECT_EQ(y[128], 0.0f);  // second half: scales 0
}

TEST(Quant, Fp6AndE8M0Codes) {
  EXPECT_EQ(Fp6E2M3ToFloat(0x0F), 1.875f);
  EXPECT_EQ(Fp6E2M3ToFloat(0x1F), 7.5f);
  EXPECT_EQ(Fp6E2M3ToFloat(0x01), 0.125f);
  EXPECT_EQ(Fp6E2M3ToFloat(0x21), -0.125f);
  EXPECT_EQ(Fp6E2M3ToFloat(0x08), 1.0f);
  EXPECT_EQ(E8M0ToFloat(127), 1.0f);
  EXPECT_EQ(E8M0ToFloat(125), 0.25f);
  EXPECT_TRUE(std::isnan(E8M0ToFloat(255)));
}

TEST(Quant, MxFp6ExactBlockAndLayout) {
  std::vector<float> x(32, 0.0f);
  x[0] = 1.0f;
  x[1] = -2.0f;
  x[2] = 0.5f;
  x[3] = 0.125f;
  x[31] = 3.0f;  // amax 3: shared exponent floor(log2 3) - 2 = -1
  uint8_t b[25];
  ASSERT_TRUE(QuantizeBlock(QuantFormat::kMXFP6, x.data(), b).ok());
  EXPECT_EQ(b[0], 126);  // 2^-1
  // Element 0 = 1.0 / 0.5 = 2.0 = code 0b0'10'000 (0x10) in stream bits 0..5.
  EXPECT_EQ(b[1] & 0x3F, 0x10);
  // Element 1 = -4.0 = 0b1'11'000 (0x38): stream bits 6..11.
  EXPECT_EQ(((b[1] >> 6) | (b[2] << 2)) & 0x3F, 0x38);
  float y[32];
  ASSERT_TRUE(DequantizeBlock(QuantFormat::kMXFP6, b, y).ok());
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]) << j;
}

TEST(Quant, MxInt8KnownBlock) {
  uint8_t b[33] = {};
  b[0] = 128;  // scale 2
  b[1] = 64;   // 2 * 64 / 64
  b[2] = static_cast<uint8_t>(-32);
  float y[32];
  ASSERT_TRUE(DequantizeBlock(QuantFormat::kMXINT8, b, y).ok());
  EXPECT_EQ(y[0], 2.0f);
  EXPECT_EQ(y[1], -1.0f);
  EXPECT_EQ(y[2], 0.0f);
}

// Quantize -> dequantize stays within each format's error bound relative to
// the block's largest magnitude.
TEST(Quant, RoundTripErrorBounds) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(4 * 64);
  for (float& v : x) v = dist(rng);
  x[5] = 0;  // zeros stay zero
  Tensor t = Tensor::F32({4, 64}, x);
  struct Case {
    QuantFormat f;
    float bound;  // max error / block amax
  };
  for (Case c : {Case{QuantFormat::kQ8_0, 1.0f / 200},
                 Case{QuantFormat::kQ4_0, 1.0f / 7.5f},
                 Case{QuantFormat::kMXFP6, 1.0f / 16},
                 Case{QuantFormat::kMXINT8, 1.0f / 64}}) {
    auto q = Quantize(t, c.f);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->quant(), c.f);
    EXPECT_EQ(q->dims(), t.dims());
    auto d = Dequantize(*q);
    ASSERT_TRUE(d.ok()) << d.status();
    std::vector<float> y = d->ToFloats();
    for (int blk = 0; blk < 8; ++blk) {
      float amax = 0;
      for (int j = 0; j < 32; ++j)
        amax = std::max(amax, std::fabs(x[blk * 32 + j]));
      for (int j = 0; j < 32; ++j) {
        int i = blk * 32 + j;
        EXPECT_LE(std::fabs(y[i] - x[i]), c.bound * amax + 1e-6f)
            << QuantFormatName(c.f) << " element " << i;
      }
    }
    EXPECT_EQ(y[5], 0.0f) << QuantFormatName(c.f);
  }
}

TEST(Quant, Errors) {
  EXPECT_FALSE(Quantize(Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6}),
                        QuantFormat::kQ8_0)
                   .ok());  // 3 is not a multiple of 32
  EXPECT_EQ(Quantize(Tensor::F32({256}, std::vector<float>(256, 1.0f)),
                     QuantFormat::kQ4_K)
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(Dequantize(Tensor::F32({1}, {1})).ok());
}

}  // namespace
}  // namespace qeff::ir
