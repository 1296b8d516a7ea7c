// Facts about the host that inputs are checked against (memory as input:
// a shape whose buffers cannot fit is refused before any allocation).
#ifndef QEFF_BASE_SYSINFO_H_
#define QEFF_BASE_SYSINFO_H_

#include <cstdint>
#include <string>

namespace qeff::base {

// MemAvailable from /proc/meminfo in bytes (what can be allocated without
// swapping); 0 when unknown.
int64_t HostMemoryAvailableBytes();

// "1.5 GiB", "512.0 MiB", "12 bytes".
std::string HumanBytes(int64_t bytes);

}  // namespace qeff::base

#endif  // QEFF_BASE_SYSINFO_H_
