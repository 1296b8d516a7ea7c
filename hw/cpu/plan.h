// The cpu driver's compiled form: per specialization a kernel plan (a
// topologically ordered list of kernel steps over slots) and a static memory
// plan (arena offsets from value lifetimes); constants are shared by all
// specializations: quantized weights are referenced in place (zero-copy
// from mmap'd checkpoints), f32/f16/bf16 Linear weights are copied once into
// the panels the kernel reads (the checkpoint's pages then released).
//
// Everything here is plain data so that the program container
// (hw/cpu/container.h) can write it and read it back; kernels are resolved
// by name when a session is loaded.
#ifndef QEFF_HW_CPU_PLAN_H_
#define QEFF_HW_CPU_PLAN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/driver.h"
#include "hw/graph_io.h"
#include "ir/tensor.h"

namespace qeff::hw::cpu {

// Where a slot's bytes live.
enum class SlotKind : uint8_t {
  kArena = 0,   // index: arena buffer id (offset from SpecPlan::buffer_offsets)
  kConst = 1,   // index: CpuProgram::constants
  kInput = 2,   // index: position in GraphIO::inputs[spec] (caller's tensor)
  kState = 3,   // index: position in GraphIO::state (session-owned)
  kOutput = 4,  // index: position in GraphIO::outputs (fresh tensor per run)
};

// A typed view of storage. Several slots may share a storage (reshapes).
struct Slot {
  SlotKind kind = SlotKind::kArena;
  int32_t index = 0;
  ir::DType dtype = ir::DType::kF32;
  ir::QuantFormat quant = ir::QuantFormat::kNone;  // constants only
  std::vector<int64_t> dims;
  int64_t num_elements() const;
};

// One kernel invocation. `op` names a kernel of hw/cpu/kernels.h; `ints`
// and `floats` are its parameters (documented per kernel); `label` is the
// source node for errors.
struct Step {
  std::string op;
  std::vector<int32_t> inputs;   // slot ids; -1: omitted optional input
  std::vector<int32_t> outputs;  // slot ids
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::string label;
};

struct SpecPlan {
  std::vector<Slot> slots;
  std::vector<Step> steps;
  std::vector<int64_t> buffer_offsets;  // arena byte offset per buffer id
  int64_t arena_bytes = 0;
};

// The program: specializations, their I/O contract, plans and constants.
class CpuProgram : public Program {
 public:
  const std::vector<Specialization>& specializations() const override {
    return specs;
  }
  std::string device_kind() const override { return "cpu"; }

  std::vector<Specialization> specs;
  GraphIO io;
  CompileOptions options;
  std::vector<SpecPlan> plans;        // one per specialization
  std::vector<ir::Tensor> constants;  // dense or quantized, shared storage
};

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_PLAN_H_
