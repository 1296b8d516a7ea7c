// A WAV (RIFF/WAVE) reader: PCM 8/16/24/32-bit integer and IEEE float
// 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE, any number of channels (1 to
// 64), averaged to mono floats in [-1, 1) (integer PCM divided by 2^(bits-1);
// 8-bit is unsigned with 128 as zero). Unknown chunks are skipped. A
// streamed file's placeholder data size (0xFFFFFFFF or 0x7FFFF000, as
// `espeak-ng --stdout` writes) means "to the end of the file".
//
// Every declared size is checked against the bytes the file has before
// anything is allocated, so a truncated file, a wrong header, zero channels
// or absurd sizes each give one InvalidArgument error naming the file and
// the field (never a crash or an allocation the file cannot back). Not
// done: compressed formats (A-law, mu-law, ADPCM: Unimplemented by name),
// RF64.
#ifndef QEFF_MODELS_AUDIO_WAV_H_
#define QEFF_MODELS_AUDIO_WAV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::models {

struct WavAudio {
  int64_t sample_rate = 0;
  int channels = 0;            // in the file (the samples are their mean)
  int bits_per_sample = 0;     // in the file
  bool is_float = false;       // IEEE float in the file
  std::vector<float> samples;  // mono
};

// Parses WAV bytes; `source` names the file in errors.
absl::StatusOr<WavAudio> ParseWav(absl::string_view bytes,
                                  const std::string& source);
// Reads and parses a file.
absl::StatusOr<WavAudio> ReadWav(const std::string& path);

// Mono float samples as 16-bit PCM WAV bytes (for tests and tools).
std::string EncodeWav16(const std::vector<float>& samples, int64_t sample_rate);

}  // namespace qeff::models

#endif  // QEFF_MODELS_AUDIO_WAV_H_
