// libFuzzer target: GGUF files (metadata, tensor table, windows) and the
// tokenizer they embed. Any input must give a value or an error, never a crash,
// sanitizer report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "models/gguf.h"
#include "models/tokenizer_loader.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::WriteScratch("m.gguf", data, size);
  auto g = models::ReadGguf(path);
  if (!g.ok()) return 0;
  for (const auto& info : g->tensors()) {
    auto t = g->GetTensor(info.name);
    if (t.ok()) fuzz::TouchTensor(*t);
  }
  auto tok = models::TokenizerFromGguf(*g);
  if (tok.ok()) fuzz::ExerciseTokenizer(**tok);
  return 0;
}
