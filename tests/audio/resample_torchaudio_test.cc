// qeff's resampler (models/audio/resample.h) vs torchaudio's
// transforms.Resample with its defaults (Debian's python3-torchaudio), on
// real speech: espeak-ng (Debian) writes a 22.05 kHz WAV, read with
// models/audio/wav.h and resampled to 16 kHz (the wav2vec2 rate) and 8 kHz;
// SNR (torchaudio's output as the signal) >= 60 dB and the same length.
// Skips with a reason when espeak-ng or torchaudio is absent.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "models/audio/resample.h"
#include "models/audio/wav.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string Tmp() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

TEST(ResampleTorchaudioTest, EspeakSpeechSnrAtLeast60dB) {
  int rc;
  testing::RunCommand("command -v espeak-ng >/dev/null 2>&1", &rc);
  if (rc != 0) GTEST_SKIP() << "espeak-ng is not installed (setup.sh does)";
  testing::RunCommand(
      absl::StrCat(kPython, " -c 'import torchaudio' >/dev/null 2>&1"), &rc);
  if (rc != 0)
    GTEST_SKIP() << kPython << " cannot import torchaudio (setup.sh installs "
                 << "python3-torchaudio)";
  const std::string wav = Tmp() + "/speech.wav";
  std::string out = testing::RunCommand(
      absl::StrCat("espeak-ng -w ", wav,
                   " 'The quick brown fox jumps over the lazy dog.' 2>&1"),
      &rc);
  ASSERT_EQ(rc, 0) << out;
  auto w = models::ReadWav(wav);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->sample_rate, 22050);
  ASSERT_GT(w->samples.size(), 22050u);  // over a second of speech
  const std::string in = Tmp() + "/speech.f32";
  {
    std::ofstream f(in, std::ios::binary);
    f.write(reinterpret_cast<const char*>(w->samples.data()),
            w->samples.size() * 4);
  }
  for (int64_t to : {16000, 8000}) {
    const std::string ref_path = absl::StrCat(Tmp(), "/ref", to, ".f32");
    out = testing::RunCommand(
        absl::StrCat(kPython, " ",
                     testing::Runfile("tests/audio/torchaudio_resample.py"),
                     " ", in, " ", w->sample_rate, " ", to, " ", ref_path,
                     " 2>&1"),
        &rc);
    ASSERT_EQ(rc, 0) << out;
    std::string raw;
    ASSERT_TRUE(testing::ReadFile(ref_path, &raw));
    std::vector<float> ref(raw.size() / 4);
    std::memcpy(ref.data(), raw.data(), ref.size() * 4);
    auto ours = models::Resample(w->samples, w->sample_rate, to);
    ASSERT_TRUE(ours.ok()) << ours.status();
    ASSERT_EQ(ours->size(), ref.size()) << to << " Hz";
    double sig = 0, noise = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      sig += double(ref[i]) * ref[i];
      noise += (double((*ours)[i]) - ref[i]) * ((*ours)[i] - ref[i]);
    }
    const double snr = 10 * std::log10(sig / std::max(noise, 1e-30));
    std::printf("22050 -> %ld Hz: %zu samples, SNR vs torchaudio %.1f dB\n",
                long(to), ref.size(), snr);
    EXPECT_GE(snr, 60.0) << to << " Hz";
  }
}

}  // namespace
}  // namespace qeff
