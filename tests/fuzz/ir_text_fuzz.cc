// libFuzzer target: The IR text format parser (ir/TEXT_FORMAT.md).
// Any input must give a value or an error, never a crash, sanitizer report
// or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "ir/text_format.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ir::ParseGraph(fuzz::AsText(data, size));
  return 0;
}
