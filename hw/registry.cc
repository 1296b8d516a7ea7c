#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hw/device_registry.h"

namespace qeff::hw {
namespace {

struct Entry {
  int rank;
  DeviceOpener open;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Entry> drivers;
};

Registry& TheRegistry() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

bool RegisterDriver(const std::string& kind, int rank, DeviceOpener open) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.drivers.emplace(kind, Entry{rank, open});
  return true;
}

std::vector<std::string> DeviceKinds() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& [kind, e] : r.drivers) ranked.push_back({e.rank, kind});
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (auto& [rank, kind] : ranked) out.push_back(kind);
  return out;
}

absl::StatusOr<std::unique_ptr<Device>> OpenDevice(absl::string_view spec) {
  const absl::string_view kind = spec.substr(0, spec.find(':'));
  DeviceOpener open = nullptr;
  {
    Registry& r = TheRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.drivers.find(std::string(kind));
    if (it != r.drivers.end()) open = it->second.open;
  }
  if (open == nullptr) {
    const std::vector<std::string> kinds = DeviceKinds();
    return absl::NotFoundError(absl::StrCat(
        "unknown device '", spec, "' (this binary has: ",
        kinds.empty() ? std::string("no drivers") : absl::StrJoin(kinds, ", "),
        ")"));
  }
  return open(spec);
}

}  // namespace qeff::hw
