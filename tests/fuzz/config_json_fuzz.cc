// libFuzzer target: Hugging Face config.json, generation_config.json and
// tokenizer_config.json parsing (the JSON reader included). Any input must give
// a value or an error, never a crash, sanitizer report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "base/json.h"
#include "models/arch/registry.h"
#include "models/hf_config.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = base::ParseJson(fuzz::AsText(data, size));
  if (!j.ok()) return 0;
  (void)models::ParseHfModelConfig(*j, "config.json");
  (void)models::ParseGenerationConfig(*j, "generation_config.json");
  (void)models::ParseTokenizerConfig(*j, "tokenizer_config.json");
  return 0;
}
