// The `reference` driver: the IR evaluator behind the driver interface.
// Exact and slow; the oracle every other driver is tested against. Compile
// only checks and records the graph and its specializations (no kernel
// plan); Run evaluates the whole graph with ir::Evaluator.
//
// CompileOptions::mxint8_kv_cache: after each call every retained state
// (f32) is rounded to MXINT8 along its last dim (blocks of 32, a short last
// block zero-padded), the values an MXINT8 cache holds. Within one call the
// rows written by that call are still read exactly (a driver that stores the
// cache as MXINT8, like cpu, reads them already rounded), so the two agree
// closely but not bit for bit.
#ifndef QEFF_HW_REFERENCE_DRIVER_H_
#define QEFF_HW_REFERENCE_DRIVER_H_

#include <memory>

#include "hw/driver.h"

namespace qeff::hw {

std::unique_ptr<Device> MakeReferenceDevice();

}  // namespace qeff::hw

#endif  // QEFF_HW_REFERENCE_DRIVER_H_
