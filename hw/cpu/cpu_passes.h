// The cpu compiler's graph rewrites as passes (run per specialization in a
// passes::PassPipeline with "qeff.cpu" as the backend domain, as XLA runs a
// pipeline per backend): bind the specialization's symbols, fuse Linear, fold
// constants with the cpu kernels, fuse blocks. Lowering to kernel steps and
// the MXINT8 cache rewrite work on the plan, not the graph, and are not
// passes (compiler.cc times them as plan stages).
#ifndef QEFF_HW_CPU_CPU_PASSES_H_
#define QEFF_HW_CPU_CPU_PASSES_H_

#include "hw/cpu/compiler_internal.h"
#include "hw/specialization.h"
#include "passes/pass.h"

namespace qeff::hw::cpu {

// "cpu_specialize": binds the specialization's symbols in every value type
// and re-infers shapes; every input and live node output must end up
// static (errors name the value and the specialization).
class SpecializePass : public passes::Pass {
 public:
  explicit SpecializePass(const Specialization& spec) : spec_(spec) {}
  absl::string_view name() const override { return "cpu_specialize"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  const Specialization& spec_;
};

// "cpu_fuse_linear": FuseLinear (compiler_internal.h); MXFP6 weights when
// `mxfp6`; packed weights are shared through `packed` across
// specializations. Counts fusions into `*count`.
class FuseLinearPass : public passes::Pass {
 public:
  FuseLinearPass(ir::QuantFormat format, ir::DType dtype, PackedWeights* packed,
                 int* count)
      : format_(format), dtype_(dtype), packed_(packed), count_(count) {}
  absl::string_view name() const override { return "cpu_fuse_linear"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  ir::QuantFormat format_;
  ir::DType dtype_;
  PackedWeights* packed_;
  int* count_;
};

// "cpu_fold": folds Shape, Constant and nodes whose inputs are all
// (unquantized) constants by running the cpu kernels themselves. It is not
// passes/' constant folding on purpose: that one runs the reference
// evaluator, and a folded table (RoPE cos/sin, masks) must be bit-equal to
// what the cpu driver would compute at run time. Counts folded nodes.
class FoldPass : public passes::Pass {
 public:
  explicit FoldPass(int* count) : count_(count) {}
  absl::string_view name() const override { return "cpu_fold"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  int* count_;
};

// "cpu_fuse_blocks": FuseBlocks (RMSNorm, RoPE, SwiGLU, LayerNorm, GELU,
// attention over the cache). Counts fusions.
class FuseBlocksPass : public passes::Pass {
 public:
  explicit FuseBlocksPass(int* count) : count_(count) {}
  absl::string_view name() const override { return "cpu_fuse_blocks"; }
  absl::StatusOr<bool> Run(ir::Graph& g) override;

 private:
  int* count_;
};

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_CPU_PASSES_H_
