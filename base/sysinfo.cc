#include "base/sysinfo.h"

#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"

namespace qeff::base {

int64_t HostMemoryAvailableBytes() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  int64_t kib = 0;
  while (std::fgets(line, sizeof(line), f)) {
    long long v = 0;
    if (std::sscanf(line, "MemAvailable: %lld kB", &v) == 1) {
      kib = v;
      break;
    }
  }
  std::fclose(f);
  return kib * 1024;
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
