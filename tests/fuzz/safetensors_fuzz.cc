// libFuzzer target: safetensors files: the 8-byte length, the JSON header, data
// offsets. Any input must give a value or an error, never a crash, sanitizer
// report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "models/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = models::ReadSafetensors(
      fuzz::WriteScratch("model.safetensors", data, size));
  if (!f.ok()) return 0;
  for (const auto& [name, t] : f->tensors) fuzz::TouchTensor(t);
  return 0;
}
