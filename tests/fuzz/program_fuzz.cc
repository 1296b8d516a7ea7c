// libFuzzer target: The cpu driver's program container (qpc/program.bin):
// header, checksum, plan, constants table. Any input must give a value or an
// error, never a crash, sanitizer report or unbounded allocation.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_util.h"
#include "hw/cpu/container.h"

using namespace qeff;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::WriteScratch("qpc-0/qpc/program.bin", data, size);
  (void)hw::cpu::ReadProgram(fuzz::ScratchDir() + "/qpc-0");
  return 0;
}
