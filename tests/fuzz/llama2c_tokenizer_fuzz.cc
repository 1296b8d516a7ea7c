// libFuzzer target: llama2.c tokenizer.bin, and the SentencePiece tokenizer
// built from it. Any input must give a value or an error, never a crash,
// sanitizer report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "models/llama2c.h"
#include "models/spm_tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = models::ReadLlama2cTokenizer(
      fuzz::WriteScratch("tokenizer.bin", data, size));
  if (!v.ok()) return 0;
  auto tok = models::SpmTokenizer::FromLlama2c(*v);
  if (tok.ok()) fuzz::ExerciseTokenizer(**tok);
  return 0;
}
