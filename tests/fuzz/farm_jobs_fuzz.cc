// libFuzzer target: Farm job files (a JSON list or JSON lines of jobs).
// Any input must give a value or an error, never a crash, sanitizer report
// or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "engine/job.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)engine::ParseJobs(fuzz::AsText(data, size), "jobs.json");
  return 0;
}
