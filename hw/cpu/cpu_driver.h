// The `cpu` driver: qeff's fast embedded default device. Compile turns the
// graph into kernel plans (hw/cpu/compiler.h); a Session runs them with
// oneTBB inside the cores its device owns, keeping retained state in
// session-owned buffers that CtxScatter updates in place.
//
// Device specs:
//   "cpu"       one card owning every core of the host
//   "cpu:N"     the host's cores split into N virtual cards; opens card 0
//   "cpu:N/k"   card k (0 <= k < N) of that split
// Cards own disjoint core counts (host cores / N, the remainder going to the
// first cards); each has its own oneTBB task_arena of that size (arenas bound
// concurrency, they do not pin threads to particular cores).
#ifndef QEFF_HW_CPU_CPU_DRIVER_H_
#define QEFF_HW_CPU_CPU_DRIVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hw/driver.h"

namespace qeff::hw {

// `spec` as above; an error names the bad part.
absl::StatusOr<std::unique_ptr<Device>> OpenCpuDevice(absl::string_view spec);

// Number of cores the device owns (for tests and reports); 0 for a device
// that is not a cpu device.
int CpuDeviceCores(const Device& device);

}  // namespace qeff::hw

#endif  // QEFF_HW_CPU_CPU_DRIVER_H_
