// libFuzzer target: WAV files (models/audio/wav.h: RIFF chunks, the fmt chunk,
// PCM/float/extensible formats, streamed data sizes), the input of
// //tools:classify_audio and //tools:transcribe. Any input must give samples
// or an error, never a crash, sanitizer report or unbounded allocation.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "models/audio/wav.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto w = models::ParseWav(fuzz::AsText(data, size), "fuzz.wav");
  if (!w.ok()) return 0;
  // Every sample was written; integer PCM lands in [-1, 1).
  volatile float sum = 0;
  for (float s : w->samples) sum = sum + s;
  (void)sum;
  return 0;
}
