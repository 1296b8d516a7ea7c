// The cpu driver's kernels: float32 compute, row-major, static shapes taken
// from the slots. Every kernel is batch-invariant: a row's result never
// depends on the batch size, the row's slot or the thread count (each
// reduction runs in a fixed order on one thread; work is split over rows or
// output features only).
//
// Kernels run inside the calling thread's oneTBB task_arena (the device's
// cores); ParallelFor splits work there.
#ifndef QEFF_HW_CPU_KERNELS_H_
#define QEFF_HW_CPU_KERNELS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hw/cpu/plan.h"

namespace qeff::hw::cpu {

// A kernel's view of one operand.
struct Arg {
  uint8_t* data = nullptr;  // nullptr for an omitted optional input
  const Slot* slot = nullptr;
  const std::vector<int64_t>& dims() const { return slot->dims; }
  int64_t n() const { return slot->num_elements(); }
  template <typename T>
  const T* in() const {
    return reinterpret_cast<const T*>(data);
  }
  template <typename T>
  T* out() const {
    return reinterpret_cast<T*>(data);
  }
};

struct KernelCtx {
  const Step& step;
  absl::Span<const Arg> in;
  absl::Span<const Arg> out;
};

using KernelFn = absl::Status (*)(const KernelCtx&);

// nullptr when no kernel has this name.
KernelFn FindKernel(absl::string_view op);

// The kernel ABI: bump when a kernel's name, parameters (Step ints/floats)
// or data layout (packed weights, cache rows) changes meaning, so programs
// saved by another build fail to load instead of running wrongly.
// 2: Attention's optional soft-cap floats; MoE activations 1 and 2 (GELU).
// 3: Linear weights of f32/f16/bf16 in panels [ceil(N / 16), K, 16]; the
//    float Linear sums each (row, feature) in one FMA chain over k.
// 4: Linear weights of Q8_0/Q4_0/Q4_K in panels [ceil(N / 16), 16, K].
// 5: MoE takes a sixth int, packed_experts: f32/f16/bf16 expert stacks in
//    PackPanels' layout expert by expert.
// 6: bf16 Linear weights (dense and packed experts) in PackBf16Pairs'
//    layout [ceil(N / 16), K rounded up to even, 16], run with bf16
//    activations (the "bf16 pairs" arithmetic of linear_internal.h);
//    packed_experts also for Q8_0/Q4_0/Q4_K stacks (PackQuantPanels').
inline constexpr int kKernelAbiVersion = 6;

// Runs fn(begin, end) over [0, n) in chunks of at least `grain`, in parallel
// within the current task_arena. Chunks never change what a single index
// computes.
void ParallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)>& fn);

// While hw::Profiler records: the op of the step this thread runs (nullptr
// after it), so ParallelFor records each chunk as a span of that kernel.
void SetProfiledStep(const std::string* op);

// An InvalidArgument error naming the step's source node.
absl::Status KernelError(const KernelCtx& k, absl::string_view what);

// Registration hooks of the kernel files (called once by FindKernel).
void RegisterElementwiseKernels();
void RegisterDataKernels();
void RegisterNNKernels();
void RegisterLinearKernels();
void RegisterKvMxInt8Kernels();  // kv_mxint8.cc
void RegisterConvKernels();      // kernels_conv.cc
void RegisterKernel(absl::string_view op, KernelFn fn);

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_KERNELS_H_
