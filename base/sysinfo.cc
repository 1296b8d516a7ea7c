#include "base/sysinfo.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"

namespace qeff::base {

namespace {

// The first "<key> %lld" value of a text file (key may be empty: the file's
// first number); -1 when absent or unreadable.
int64_t ReadKeyed(const char* path, const char* format) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  char line[256];
  int64_t out = -1;
  while (std::fgets(line, sizeof(line), f)) {
    long long v = 0;
    if (std::sscanf(line, format, &v) == 1) {
      out = v;
      break;
    }
  }
  std::fclose(f);
  return out;
}

// Headroom under a limit/usage file pair; -1 when there is no limit.
int64_t CgroupHeadroom(const char* limit_path, const char* usage_path) {
  const int64_t limit = ReadKeyed(limit_path, "%lld");  // "max": no number
  const int64_t usage = ReadKeyed(usage_path, "%lld");
  if (limit <= 0 || usage < 0 || limit >= (int64_t{1} << 60)) return -1;
  return std::max<int64_t>(0, limit - usage);
}

}  // namespace

int64_t HostMemoryAvailableBytes() {
  const int64_t kib = ReadKeyed("/proc/meminfo", "MemAvailable: %lld kB");
  if (kib < 0) return 0;
  int64_t avail = kib * 1024;
  // A cgroup memory limit (v2, then v1) below the host's.
  for (const auto& [limit, usage] :
       {std::pair<const char*, const char*>{"/sys/fs/cgroup/memory.max",
                                            "/sys/fs/cgroup/memory.current"},
        {"/sys/fs/cgroup/memory/memory.limit_in_bytes",
         "/sys/fs/cgroup/memory/memory.usage_in_bytes"}}) {
    const int64_t h = CgroupHeadroom(limit, usage);
    if (h >= 0) avail = std::min(avail, h);
  }
  // The process's address-space limit (ulimit -v) less what it has mapped.
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const int64_t vm_kib = ReadKeyed("/proc/self/status", "VmSize: %lld kB");
    const int64_t cap =
        static_cast<int64_t>(rl.rlim_cur) - std::max<int64_t>(0, vm_kib) * 1024;
    avail = std::min(avail, std::max<int64_t>(0, cap));
  }
  return avail;
}

std::string HumanBytes(int64_t b) {
  const double x = static_cast<double>(b);
  if (x >= 1024.0 * 1024 * 1024)
    return absl::StrFormat("%.1f GiB", x / (1024.0 * 1024 * 1024));
  if (x >= 1024.0 * 1024)
    return absl::StrFormat("%.1f MiB", x / (1024.0 * 1024));
  if (x >= 1024.0) return absl::StrFormat("%.1f KiB", x / 1024.0);
  return absl::StrFormat("%d bytes", b);
}

}  // namespace qeff::base
