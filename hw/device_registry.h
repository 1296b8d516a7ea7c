// The device registry: drivers register an opener for their kind at static
// initialization (their Bazel targets are `alwayslink`), so code that opens
// devices names no driver. A device spec is `<kind>` or `<kind>:<args>`
// ("cpu", "cpu:4/1", "reference"); the opener parses the args.
#ifndef QEFF_HW_DEVICE_REGISTRY_H_
#define QEFF_HW_DEVICE_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hw/driver.h"

namespace qeff::hw {

using DeviceOpener =
    absl::StatusOr<std::unique_ptr<Device>> (*)(absl::string_view spec);

// Registers `kind` (lower `rank` lists first; the first kind is the default
// device). Returns true so that a driver can register from a static
// initializer: `const bool kRegistered = RegisterDriver(...)`. A kind
// registered twice keeps the first opener.
bool RegisterDriver(const std::string& kind, int rank, DeviceOpener open);

// Opens a device by spec; an unknown kind is NotFound listing the kinds
// this binary has.
absl::StatusOr<std::unique_ptr<Device>> OpenDevice(absl::string_view spec);

// The kinds linked into this binary, the default first.
std::vector<std::string> DeviceKinds();

}  // namespace qeff::hw

#endif  // QEFF_HW_DEVICE_REGISTRY_H_
