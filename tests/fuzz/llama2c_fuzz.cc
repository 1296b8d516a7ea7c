// libFuzzer target: llama2.c checkpoints (.bin): the 7-int header and weight
// arrays. Any input must give a value or an error, never a crash, sanitizer
// report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "models/llama2c.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = models::ReadLlama2c(fuzz::WriteScratch("model.bin", data, size));
  if (!m.ok()) return 0;
  for (const auto& [name, t] : m->weights) fuzz::TouchTensor(t);
  return 0;
}
