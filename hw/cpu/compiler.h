// The cpu compiler: a graph and its specializations -> a CpuProgram
// (hw/cpu/plan.h). Per specialization: bind symbols and infer static shapes
// (ir::InferShapes), fuse Linear, fold constant subgraphs with the cpu
// kernels themselves (never the reference evaluator), fuse RMSNorm / RoPE /
// SwiGLU / attention over the cache, lower to kernel steps, and plan the
// arena from value lifetimes. Constants are shared across specializations
// and referenced in place.
#ifndef QEFF_HW_CPU_COMPILER_H_
#define QEFF_HW_CPU_COMPILER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "hw/cpu/plan.h"

namespace qeff::hw::cpu {

struct CompileStats {
  int fused_linear = 0;
  int fused_blocks = 0;
  int folded = 0;
};

absl::StatusOr<std::shared_ptr<CpuProgram>> CompileProgram(
    const ir::Graph& graph, const std::vector<Specialization>& specs,
    const CompileOptions& options, CompileStats* stats = nullptr);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_COMPILER_H_
