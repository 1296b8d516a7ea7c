#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hw/cpu/cpu_driver.h"
#include "hw/driver.h"
#include "hw/reference_driver.h"

namespace qeff::hw {

// The first kind is the default device.
std::vector<std::string> DeviceKinds() { return {"cpu", "reference"}; }

absl::StatusOr<std::unique_ptr<Device>> OpenDevice(absl::string_view spec) {
  if (spec == "reference") return MakeReferenceDevice();
  // "cpu", "cpu:N" (card 0 of N), "cpu:N/k" (card k of N).
  if (spec == "cpu" || absl::StartsWith(spec, "cpu:"))
    return OpenCpuDevice(spec);
  return absl::NotFoundError(
      absl::StrCat("unknown device '", spec,
                   "' (known: ", absl::StrJoin(DeviceKinds(), ", "), ")"));
}

}  // namespace qeff::hw
