#include "models/audio/wav.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace qeff::models {
namespace {

constexpr int kMaxChannels = 64;
constexpr int64_t kMaxSampleRate = 768000;

uint32_t U32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}
uint16_t U16(const unsigned char* p) { return uint16_t(p[0] | p[1] << 8); }

std::string Printable(absl::string_view tag) {
  std::string out;
  for (unsigned char c : tag)
    out += (c >= 32 && c < 127) ? std::string(1, static_cast<char>(c))
                                : absl::StrFormat("\\x%02x", c);
  return out;
}

}  // namespace

absl::StatusOr<WavAudio> ParseWav(absl::string_view bytes,
                                  const std::string& source) {
  auto bad = [&](const auto&... what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", what...));
  };
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t n = bytes.size();
  if (n < 12)
    return bad("not a WAV file: ", n, " bytes, shorter than a RIFF header");
  if (bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WAVE")
    return bad("not a WAV file: header '", Printable(bytes.substr(0, 4)),
               "'...'", Printable(bytes.substr(8, 4)),
               "', expected 'RIFF'...'WAVE'");
  bool have_fmt = false;
  uint16_t format = 0, channels = 0, block_align = 0, bits = 0;
  uint32_t rate = 0;
  uint64_t pos = 12;
  while (pos + 8 <= n) {
    const absl::string_view tag = bytes.substr(pos, 4);
    uint64_t size = U32(b + pos + 4);
    const uint64_t body = pos + 8;
    // A streamed WAV (e.g. `espeak-ng --stdout`) leaves a placeholder data
    // size: its data runs to the end of the file (whole frames only).
    const bool streamed = tag == "data" &&
                          (size == 0xFFFFFFFFu || size == 0x7FFFF000u) &&
                          size > n - body;
    if (streamed) size = n - body;
    if (size > n - body)
      return bad("truncated: chunk '", Printable(tag), "' at byte ", pos,
                 " declares ", size, " bytes, the file has ", n - body,
                 " after its header");
    if (tag == "fmt ") {
      if (size < 16)
        return bad("'fmt ' chunk has ", size, " bytes, needs at least 16");
      format = U16(b + body);
      channels = U16(b + body + 2);
      rate = U32(b + body + 4);
      block_align = U16(b + body + 12);
      bits = U16(b + body + 14);
      if (format == 0xFFFE) {  // WAVE_FORMAT_EXTENSIBLE: the subformat GUID
        if (size < 40)
          return bad("extensible 'fmt ' chunk has ", size, " bytes, needs 40");
        format = U16(b + body + 24);
      }
      have_fmt = true;
    } else if (tag == "data") {
      if (!have_fmt) return bad("'data' chunk before the 'fmt ' chunk");
      if (channels == 0) return bad("'fmt ' chunk: channels is 0");
      if (channels > kMaxChannels)
        return bad("'fmt ' chunk: channels ", channels, " (at most ",
                   kMaxChannels, ")");
      if (rate == 0 || rate > kMaxSampleRate)
        return bad("'fmt ' chunk: sample rate ", rate, " Hz (1 to ",
                   kMaxSampleRate, ")");
      const bool is_float = format == 3;
      if (format != 1 && format != 3)
        return absl::UnimplementedError(
            absl::StrCat(source, ": WAV format tag ", format,
                         " is not supported (1: integer PCM, 3: IEEE float)"));
      const bool ok_bits =
          is_float ? (bits == 32 || bits == 64)
                   : (bits == 8 || bits == 16 || bits == 24 || bits == 32);
      if (!ok_bits)
        return bad("'fmt ' chunk: ", bits, " bits per sample is not valid for ",
                   is_float ? "float" : "integer PCM",
                   is_float ? " (32 or 64)" : " (8, 16, 24 or 32)");
      const int bytes_per = bits / 8;
      if (block_align != channels * bytes_per)
        return bad("'fmt ' chunk: block_align ", block_align, " is not ",
                   "channels ", channels, " x ", bytes_per, " bytes");
      if (streamed) size -= size % block_align;
      if (size % block_align != 0)
        return bad("truncated: 'data' holds ", size,
                   " bytes, not a whole number of ", block_align,
                   "-byte frames");
      WavAudio w;
      w.sample_rate = rate;
      w.channels = channels;
      w.bits_per_sample = bits;
      w.is_float = is_float;
      const uint64_t frames = size / block_align;
      w.samples.resize(frames);  // backed by `size` bytes of the file
      const unsigned char* d = b + body;
      for (uint64_t f = 0; f < frames; ++f) {
        double sum = 0;
        for (int c = 0; c < channels; ++c) {
          const unsigned char* p = d + f * block_align + c * bytes_per;
          double v;
          if (is_float && bits == 32) {
            float x;
            std::memcpy(&x, p, 4);
            v = x;
          } else if (is_float) {
            double x;
            std::memcpy(&x, p, 8);
            v = x;
          } else if (bits == 8) {
            v = (double(p[0]) - 128.0) / 128.0;
          } else if (bits == 16) {
            v = double(int16_t(U16(p))) / 32768.0;
          } else if (bits == 24) {
            int32_t x = int32_t(uint32_t(p[0]) << 8 | uint32_t(p[1]) << 16 |
                                uint32_t(p[2]) << 24) >>
                        8;
            v = double(x) / 8388608.0;
          } else {
            v = double(int32_t(U32(p))) / 2147483648.0;
          }
          sum += v;
        }
        w.samples[f] = static_cast<float>(sum / channels);
      }
      return w;
    }
    pos = body + size + (size & 1);  // chunks are padded to even sizes
  }
  if (pos < n)
    return bad("truncated: ", n - pos, " stray bytes where a chunk header ",
               "should be (byte ", pos, ")");
  return bad(have_fmt ? "no 'data' chunk" : "no 'fmt ' chunk");
}

absl::StatusOr<WavAudio> ReadWav(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ParseWav(ss.str(), path);
}

std::string EncodeWav16(const std::vector<float>& samples,
                        int64_t sample_rate) {
  std::string out;
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  auto u16 = [&](uint16_t v) {
    out.push_back(static_cast<char>(v));
    out.push_back(static_cast<char>(v >> 8));
  };
  const uint32_t data = static_cast<uint32_t>(samples.size() * 2);
  out += "RIFF";
  u32(36 + data);
  out += "WAVEfmt ";
  u32(16);
  u16(1);
  u16(1);
  u32(static_cast<uint32_t>(sample_rate));
  u32(static_cast<uint32_t>(sample_rate * 2));
  u16(2);
  u16(16);
  out += "data";
  u32(data);
  for (float s : samples) {
    const double c = std::clamp(std::round(double(s) * 32768.0), -32768.0,
                                32767.0);  // the inverse of reading
    u16(static_cast<uint16_t>(static_cast<int16_t>(c)));
  }
  return out;
}

}  // namespace qeff::models
