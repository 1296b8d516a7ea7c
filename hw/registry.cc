#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hw/driver.h"
#include "hw/reference_driver.h"

namespace qeff::hw {

std::vector<std::string> DeviceKinds() { return {"reference"}; }

absl::StatusOr<std::unique_ptr<Device>> OpenDevice(absl::string_view spec) {
  if (spec == "reference") return MakeReferenceDevice();
  return absl::NotFoundError(absl::StrCat("unknown device '", spec, "' (known: ",
                                          absl::StrJoin(DeviceKinds(), ", "), ")"));
}

}  // namespace qeff::hw
