// libFuzzer target: Hugging Face tokenizer.json (BPE, SentencePiece-style,
// WordPiece models, normalizers, pre-tokenizers), then encoding and decoding.
// Any input must give a value or an error, never a crash, sanitizer report
// or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "base/json.h"
#include "models/hf_tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = base::ParseJson(fuzz::AsText(data, size));
  if (!j.ok()) return 0;
  auto tok = models::TokenizerFromHfJson(*j, nullptr, "tokenizer.json");
  if (tok.ok()) fuzz::ExerciseTokenizer(**tok);
  return 0;
}
