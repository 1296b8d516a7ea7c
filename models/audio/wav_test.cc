// WAV parsing: every sample format round-trips, channels are averaged, and
// each kind of bad file gets one clear error naming what is wrong.
#include "models/audio/wav.h"

#include <cstring>

#include "gtest/gtest.h"

namespace qeff::models {
namespace {

// A WAV with the given fmt fields and data bytes (sizes as given).
std::string Wav(uint16_t format, uint16_t channels, uint32_t rate,
                uint16_t bits, const std::string& data,
                int64_t declared_data = -1) {
  std::string o;
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) o.push_back(char(v >> (8 * i)));
  };
  auto u16 = [&](uint16_t v) {
    o.push_back(char(v));
    o.push_back(char(v >> 8));
  };
  o += "RIFF";
  u32(uint32_t(36 + data.size()));
  o += "WAVEfmt ";
  u32(16);
  u16(format);
  u16(channels);
  u32(rate);
  u32(rate * channels * bits / 8);
  u16(uint16_t(channels * bits / 8));
  u16(bits);
  o += "LIST";  // an unknown chunk (odd size, padded) to skip
  u32(3);
  o += "abc";
  o.push_back(0);
  o += "data";
  u32(declared_data >= 0 ? uint32_t(declared_data) : uint32_t(data.size()));
  o += data;
  return o;
}

TEST(WavTest, Pcm16StereoIsAveraged) {
  std::string d;
  for (int16_t v :
       {int16_t(16384), int16_t(0), int16_t(-32768), int16_t(-32768)}) {
    d.push_back(char(v & 0xff));
    d.push_back(char((v >> 8) & 0xff));
  }
  auto w = ParseWav(Wav(1, 2, 22050, 16, d), "t.wav");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->sample_rate, 22050);
  EXPECT_EQ(w->channels, 2);
  ASSERT_EQ(w->samples.size(), 2u);
  EXPECT_FLOAT_EQ(w->samples[0], 0.25f);
  EXPECT_FLOAT_EQ(w->samples[1], -1.0f);
}

TEST(WavTest, Pcm24And32AndFloat) {
  // 24-bit -0.5 = 0xC00000.
  auto w24 =
      ParseWav(Wav(1, 1, 16000, 24, std::string("\x00\x00\xC0", 3)), "a.wav");
  ASSERT_TRUE(w24.ok()) << w24.status();
  EXPECT_FLOAT_EQ(w24->samples[0], -0.5f);
  auto w32 = ParseWav(Wav(1, 1, 16000, 32, std::string("\x00\x00\x00\x40", 4)),
                      "b.wav");
  ASSERT_TRUE(w32.ok()) << w32.status();
  EXPECT_FLOAT_EQ(w32->samples[0], 0.5f);
  float f = 0.125f;
  std::string fd(4, '\0');
  std::memcpy(&fd[0], &f, 4);
  auto wf = ParseWav(Wav(3, 1, 16000, 32, fd), "c.wav");
  ASSERT_TRUE(wf.ok()) << wf.status();
  EXPECT_TRUE(wf->is_float);
  EXPECT_FLOAT_EQ(wf->samples[0], 0.125f);
  double g = -0.75;
  std::string gd(8, '\0');
  std::memcpy(&gd[0], &g, 8);
  auto wd = ParseWav(Wav(3, 1, 16000, 64, gd), "d.wav");
  ASSERT_TRUE(wd.ok()) << wd.status();
  EXPECT_FLOAT_EQ(wd->samples[0], -0.75f);
  auto w8 = ParseWav(Wav(1, 1, 8000, 8, std::string("\xC0", 1)), "e.wav");
  ASSERT_TRUE(w8.ok()) << w8.status();
  EXPECT_FLOAT_EQ(w8->samples[0], 0.5f);
}

TEST(WavTest, StreamedPlaceholderSizeReadsToTheEnd) {
  // 2 frames and a stray byte after a 0x7FFFF000 placeholder.
  auto w = ParseWav(
      Wav(1, 1, 22050, 16, std::string("\0\x40\0\xC0\x01", 5), 0x7FFFF000u),
      "s.wav");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->samples.size(), 2u);
  EXPECT_FLOAT_EQ(w->samples[0], 0.5f);
  EXPECT_FLOAT_EQ(w->samples[1], -0.5f);
}

TEST(WavTest, EncodeRoundTrips) {
  std::vector<float> s = {0.0f, 0.5f, -0.5f, 0.999f};
  auto w = ParseWav(EncodeWav16(s, 16000), "r.wav");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->samples.size(), s.size());
  for (size_t i = 0; i < s.size(); ++i)
    EXPECT_NEAR(w->samples[i], s[i], 1.0 / 32767);
}

void ExpectError(const std::string& bytes, const std::string& needle) {
  auto w = ParseWav(bytes, "bad.wav");
  ASSERT_FALSE(w.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_NE(std::string(w.status().message()).find("bad.wav"),
            std::string::npos)
      << w.status();
  EXPECT_NE(std::string(w.status().message()).find(needle), std::string::npos)
      << w.status();
}

TEST(WavTest, BadFilesGetOneClearError) {
  const std::string ok = Wav(1, 1, 16000, 16, std::string(8, '\0'));
  // Truncated: the data chunk declares more than the file has.
  ExpectError(ok.substr(0, ok.size() - 3), "truncated");
  ExpectError(ok.substr(0, 7), "shorter than a RIFF header");
  // Wrong header.
  std::string riff = ok;
  riff.replace(0, 4, "RIFX");
  ExpectError(riff, "not a WAV file");
  std::string wave = ok;
  wave.replace(8, 4, "AVI ");
  ExpectError(wave, "expected 'RIFF'...'WAVE'");
  // Zero channels, absurd channels and rates.
  ExpectError(Wav(1, 0, 16000, 16, std::string(8, '\0')), "channels is 0");
  ExpectError(Wav(1, 1000, 16000, 16, std::string(2000, '\0')),
              "channels 1000");
  ExpectError(Wav(1, 1, 0, 16, std::string(8, '\0')), "sample rate 0");
  ExpectError(Wav(1, 1, 4000000000u, 16, std::string(8, '\0')),
              "sample rate 4000000000");
  // Absurd sizes: a data chunk declaring 4 GiB in a tiny file (no
  // allocation happens before the check).
  ExpectError(Wav(1, 1, 16000, 16, std::string(8, '\0'), 0xFFFFFFF0u),
              "declares 4294967280 bytes");
  ExpectError(Wav(1, 1, 16000, 12, std::string(8, '\0')), "12 bits per sample");
  ExpectError(Wav(1, 2, 16000, 16, std::string(6, '\0')),
              "not a whole number of 4-byte frames");
  // Missing chunks.
  ExpectError(ok.substr(0, 12), "no 'fmt ' chunk");
  auto comp = ParseWav(Wav(6, 1, 8000, 8, std::string(4, '\0')), "alaw.wav");
  ASSERT_FALSE(comp.ok());
  EXPECT_EQ(comp.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(ReadWav("/nonexistent/x.wav").ok());
}

}  // namespace
}  // namespace qeff::models
