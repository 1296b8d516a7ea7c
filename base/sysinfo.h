// Facts about the host that inputs are checked against (memory as input:
// a shape whose buffers cannot fit is refused before any allocation).
#ifndef QEFF_BASE_SYSINFO_H_
#define QEFF_BASE_SYSINFO_H_

#include <cstdint>
#include <string>

namespace qeff::base {

// What this process can allocate without swapping, in bytes: MemAvailable
// from /proc/meminfo, lowered by a cgroup memory limit (v2 or v1) and by the
// address-space limit (ulimit -v) less what the process has mapped; 0 when
// /proc/meminfo is unreadable (unknown).
int64_t HostMemoryAvailableBytes();

// "1.5 GiB", "512.0 MiB", "12 bytes".
std::string HumanBytes(int64_t bytes);

}  // namespace qeff::base

#endif  // QEFF_BASE_SYSINFO_H_
