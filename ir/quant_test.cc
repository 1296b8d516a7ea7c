#include "ir/quant.h"

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
