// libFuzzer target: HTTP request bodies of the OpenAI completions API
// (//tools:serve's parser). Any input must give a value or an error, never a
// crash, sanitizer report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_util.h"
#include "tools/openai_api.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)tools::ParseCompletionRequest(fuzz::AsText(data, size));
  return 0;
}
