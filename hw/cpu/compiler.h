// The cpu compiler: a graph and its specializations -> a CpuProgram
// (hw/cpu/plan.h). Per specialization, a pass pipeline (cpu_passes.h:
// verified after each pass, dumped when options.pass_dump_regex matches a
// pass name, timed) binds symbols and infers static shapes, fuses Linear,
// folds constant subgraphs with the cpu kernels themselves (never the
// reference evaluator) and fuses RMSNorm / RoPE / SwiGLU / attention over
// the cache; then plan stages lower to kernel steps, plan the arena from
// value lifetimes and (mxint8_kv_cache) rewrite the cache steps. Constants are
// shared across specializations and referenced in place.
#ifndef QEFF_HW_CPU_COMPILER_H_
#define QEFF_HW_CPU_COMPILER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hw/cpu/plan.h"

namespace qeff::hw::cpu {

struct StageTiming {
  std::string name;  // a pass ("cpu_fold") or plan stage ("cpu_lower")
  double seconds = 0;
};

struct CompileStats {
  int fused_linear = 0;
  int fused_blocks = 0;
  int folded = 0;
  // Per graph pass and plan stage, summed over the specializations.
  std::vector<StageTiming> timings;
};

absl::StatusOr<std::shared_ptr<CpuProgram>> CompileProgram(
    const ir::Graph& graph, const std::vector<Specialization>& specs,
    const CompileOptions& options, CompileStats* stats = nullptr);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_COMPILER_H_
