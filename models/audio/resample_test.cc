// Resampling's own checks (the torchaudio comparison is
// tests/audio/resample_torchaudio_test): lengths, identity at equal rates,
// a low tone keeps its amplitude and phase, bad rates are errors.
#include "models/audio/resample.h"

#include <cmath>

#include "gtest/gtest.h"

namespace qeff::models {
namespace {

TEST(ResampleTest, LengthsAndIdentity) {
  std::vector<float> x(1000, 0.25f);
  auto same = Resample(x, 16000, 16000);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, x);
  auto down = Resample(x, 22050, 16000);
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->size(), 726u);  // ceil(1000 * 320 / 441)
  auto up = Resample(x, 8000, 16000);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->size(), 2000u);
}

TEST(ResampleTest, ToneSurvives) {
  const double f = 440, a = 0.5;
  std::vector<float> x(22050);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(a * std::sin(2 * M_PI * f * double(i) / 22050));
  auto y = Resample(x, 22050, 16000);
  ASSERT_TRUE(y.ok());
  double err = 0;
  for (size_t i = 200; i + 200 < y->size(); ++i)  // away from the edges
    err = std::max(err, std::fabs((*y)[i] - a * std::sin(2 * M_PI * f *
                                                         double(i) / 16000)));
  EXPECT_LT(err, 2e-3);
}

TEST(ResampleTest, BadRates) {
  EXPECT_FALSE(Resample({1.0f}, 0, 16000).ok());
  EXPECT_FALSE(Resample({1.0f}, 16000, -1).ok());
  EXPECT_FALSE(Resample({1.0f}, 44100, 44101).ok());
}

}  // namespace
}  // namespace qeff::models
