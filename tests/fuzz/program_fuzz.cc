// libFuzzer target: the cpu driver's program container (qpc/program.bin):
// header, bounds, checksum, plan, constants table.
// Any input must give a value or an error, never a crash, sanitizer report
// or unbounded allocation. The header/plan checksum (FNV-1a-64, container.h)
// would stop nearly every mutation at the checksum test, so inputs whose
// header padding byte 127 is even get a correct checksum written in first:
// the plan reader behind it is fuzzed too, and odd ones fuzz the check.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hw/cpu/container.h"
#include "tests/fuzz/fuzz_util.h"

using namespace qeff;  // NOLINT

namespace {

constexpr size_t kChecksumAt = 80;  // container.h's header layout

uint64_t Fnv1a(const uint8_t* p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

void FixChecksum(std::vector<uint8_t>* b) {
  if (b->size() < hw::cpu::kHeaderBytes || ((*b)[127] & 1)) return;
  uint64_t plan_offset, plan_size;
  std::memcpy(&plan_offset, b->data() + 48, 8);
  std::memcpy(&plan_size, b->data() + 56, 8);
  if (plan_offset > b->size() || plan_size > b->size() - plan_offset) return;
  std::memset(b->data() + kChecksumAt, 0, 8);
  const uint64_t sum =
      Fnv1a(b->data() + plan_offset, plan_size,
            Fnv1a(b->data(), hw::cpu::kHeaderBytes, 1469598103934665603ull));
  std::memcpy(b->data() + kChecksumAt, &sum, 8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  FixChecksum(&bytes);
  fuzz::WriteScratch("qpc-0/qpc/program.bin", bytes.data(), bytes.size());
  (void)hw::cpu::ReadProgram(fuzz::ScratchDir() + "/qpc-0");
  return 0;
}
