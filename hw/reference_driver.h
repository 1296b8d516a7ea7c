// The `reference` driver: the IR evaluator behind the driver interface.
// Exact and slow; the oracle every other driver is tested against. Compile
// only checks and records the graph and its specializations (no kernel
// plan); Run evaluates the whole graph with ir::Evaluator.
#ifndef QEFF_HW_REFERENCE_DRIVER_H_
#define QEFF_HW_REFERENCE_DRIVER_H_

#include <memory>

#include "hw/driver.h"

namespace qeff::hw {

std::unique_ptr<Device> MakeReferenceDevice();

}  // namespace qeff::hw

#endif  // QEFF_HW_REFERENCE_DRIVER_H_
