// libFuzzer target: specializations.json of program folders.
// Any input must give a value or an error, never a crash, sanitizer report
// or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "hw/specialization.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)hw::ParseSpecializationsJson(fuzz::AsText(data, size),
                                     "specializations.json");
  return 0;
}
