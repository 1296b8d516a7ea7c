// Internals of the cpu compiler shared by compiler.cc, fusion.cc and
// lower.cc. Fused ops are nodes of the private domain "qeff.cpu" whose
// output types are set by the fusion (shape inference never sees them).
#ifndef QEFF_HW_CPU_COMPILER_INTERNAL_H_
#define QEFF_HW_CPU_COMPILER_INTERNAL_H_

#include <map>

#include "absl/status/statusor.h"
#include "hw/cpu/plan.h"
#include "ir/graph.h"

namespace qeff::hw::cpu {

inline constexpr char kCpuDomain[] = "qeff.cpu";

// "cpu compiler: specialization '<name>': <what>" (InvalidArgument).
absl::Status CompileError(const Specialization& spec, absl::string_view what);

// Linear: MatMul(x, Transpose(W [N,K] const)) (W possibly behind a Cast
// from f16/bf16) and MatMul(x, W [K,N] const f32, repacked to [N,K]) ->
// Linear(x, W [N,K]). With a `format` (kQ8_0, kQ4_0, kMXFP6), f32/f16/bf16
// weights whose K is a multiple of 32 are quantized to it here (others keep
// their precision). Also feeds MoE expert stacks stored as f16/bf16 to the
// MoE kernel as they are (not through their Cast to f32). Returns the
// number of fusions.
// Packed weights by source storage, shared by the specializations.
using PackedWeights = std::map<const void*, ir::Tensor>;
// Without a format, `dtype` kF16 / kBF16 stores f32 weights in it.
absl::StatusOr<int> FuseLinear(ir::Graph& g, ir::QuantFormat format,
                               ir::DType dtype, PackedWeights* packed);
// RMSNorm, RoPE, SwiGLU and attention-over-cache patterns (after constant
// folding, which makes gather indices and scalars constants).
absl::StatusOr<int> FuseBlocks(ir::Graph& g);

// The kernel name and parameters of a node (Step without slots). Alias ops
// (Reshape, Unsqueeze, Squeeze, Flatten, Identity) give op "Alias".
absl::StatusOr<Step> LowerNode(const ir::Graph& g, const ir::Node& n);

// Runs one lowered step on concrete tensors (compile-time folding).
absl::StatusOr<std::vector<ir::Tensor>> RunStepOnTensors(
    const Step& step, const std::vector<const ir::Tensor*>& inputs,
    const std::vector<ir::TensorType>& output_types);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_COMPILER_INTERNAL_H_
