#include "models/weight_check.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "gtest/gtest.h"

namespace qeff::models {
namespace {

TEST(WeightCheck, FiniteWeightsPass) {
  WeightMap w;
  w["a"] = ir::Tensor::F32({2}, {1.0f, -3.5f});
  w["b"] = ir::Tensor::Zeros(ir::DType::kF16, {4});
  EXPECT_TRUE(CheckWeightsFinite("m.gguf", w).ok());
}

TEST(WeightCheck, NamesTheFirstNonFiniteTensorAndElement) {
  WeightMap w;
  w["z"] = ir::Tensor::F32({3}, {0, 0, std::numeric_limits<float>::infinity()});
  w["y"] = ir::Tensor::F32({3}, {0, std::nanf(""), 0});
  auto s = CheckWeightsFinite("m.gguf", w);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "m.gguf: tensor y element 1 is nan (weights must be finite)");
}

TEST(WeightCheck, HalfAndBFloat16InfinityAndNan) {
  WeightMap w;
  ir::Tensor h = ir::Tensor::Zeros(ir::DType::kF16, {2});
  const uint16_t inf16 = 0x7C00;
  std::memcpy(h.mutable_raw() + 2, &inf16, 2);
  w["h"] = h;
  auto s = CheckWeightsFinite("f", w);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tensor h element 1 is inf"), std::string::npos);
  WeightMap b;
  ir::Tensor t = ir::Tensor::Zeros(ir::DType::kBF16, {3});
  const uint16_t nan_bf16 = 0x7FC1;
  std::memcpy(t.mutable_raw() + 4, &nan_bf16, 2);
  b["t"] = t;
  s = CheckWeightsFinite("f", b);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tensor t element 2 is nan"), std::string::npos);
}

}  // namespace
}  // namespace qeff::models
