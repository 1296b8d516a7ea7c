// Helpers shared by the libFuzzer targets in tests/fuzz/: readers that take a
// path get the input through a per-process scratch file (tmpfs when there
// is one), rewritten for each input.
#ifndef QEFF_TESTS_FUZZ_FUZZ_UTIL_H_
#define QEFF_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "ir/tensor.h"
#include "models/tokenizer.h"

namespace qeff::fuzz {

// A per-process scratch folder, created on first use.
const std::string& ScratchDir();

// Writes `data` to ScratchDir()/`relative` (folders created) and returns the
// full path.
std::string WriteScratch(absl::string_view relative, const uint8_t* data,
                         size_t size);

// Reads the first and last byte of `t`'s storage: a tensor whose window
// lies outside its file's mapping faults here (ASan does not see mmap).
void TouchTensor(const ir::Tensor& t);

// Encodes a fixed mixed text (ASCII, a control token as text, accents, an
// emoji), decodes the ids back and decodes a few ids near the vocabulary's
// edges; results are ignored, only crashes count.
void ExerciseTokenizer(const models::Tokenizer& tok);

inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace qeff::fuzz

#endif  // QEFF_TESTS_FUZZ_FUZZ_UTIL_H_
