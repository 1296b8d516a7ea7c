// The `sim` driver: a Cloud AI 100 card that is not here. Device specs
// "sim:ai100-standard", "sim:ai100-pro", "sim:ai100-ultra" (plain "sim" is
// the Ultra). Compile estimates every specialization on the card
// (hw/sim/ai100_model.h: modelled seconds per call, tokens/s, DDR
// footprint; a program that does not fit the SoCs asked for fails here,
// naming the shortfall) and compiles the same graph for the host's `cpu`
// driver, so sessions give real outputs computed on the host. The
// estimate is the program's PerformanceReportJson() and is saved beside the
// cpu program (sim_estimate.json). Host wall-clock times of a sim session
// are the cpu's, never the card's; tools print both, labelled.
// num_cores and num_devices are the card's (AI cores per SoC, SoCs): they
// change the estimate only; the host program runs on the cpu device's cores.
#ifndef QEFF_HW_SIM_SIM_DRIVER_H_
#define QEFF_HW_SIM_SIM_DRIVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hw/driver.h"

namespace qeff::hw {

absl::StatusOr<std::unique_ptr<Device>> OpenSimDevice(absl::string_view spec);

}  // namespace qeff::hw

#endif  // QEFF_HW_SIM_SIM_DRIVER_H_
