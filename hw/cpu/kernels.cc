#include "hw/cpu/kernels.h"

#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/tsan.h"
#include "hw/cpu/kernels_moe.h"
#include "hw/profiler.h"
#include "oneapi/tbb/blocked_range.h"
#include "oneapi/tbb/parallel_for.h"
#include "oneapi/tbb/partitioner.h"

namespace qeff::hw::cpu {
namespace {

// The op of the step the calling thread is running (profiled runs only).
thread_local const std::string* current_step_op = nullptr;

absl::flat_hash_map<std::string, KernelFn>& Registry() {
  static auto* r = new absl::flat_hash_map<std::string, KernelFn>();
  return *r;
}

}  // namespace

int64_t Slot::num_elements() const { return ir::NumElements(dims); }

void RegisterKernel(absl::string_view op, KernelFn fn) {
  Registry()[std::string(op)] = fn;
}

KernelFn FindKernel(absl::string_view op) {
  static std::once_flag once;
  std::call_once(once, [] {
    RegisterElementwiseKernels();
    RegisterDataKernels();
    RegisterNNKernels();
    RegisterLinearKernels();
    RegisterKvMxInt8Kernels();
    RegisterMoEKernels();
    RegisterConvKernels();
  });
  auto it = Registry().find(std::string(op));
  return it == Registry().end() ? nullptr : it->second;
}

void SetProfiledStep(const std::string* op) { current_step_op = op; }

void ParallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (Profiler::Global().enabled() && current_step_op != nullptr) {
    // Each chunk is a span on the thread that runs it.
    const std::string* op = current_step_op;
    current_step_op = nullptr;  // no nested chunk spans
    ParallelFor(n, grain, [&](int64_t b, int64_t e) {
      const int64_t t = Profiler::NowNs();
      fn(b, e);
      Profiler::Global().RecordSince(*op, "chunk", "", "", t);
    });
    current_step_op = op;
    return;
  }
  if (n <= grain) {
    fn(0, n);
    return;
  }
  // parallel_for's fork (the caller's writes before it, seen by every chunk)
  // and join (every chunk's writes, seen by the caller after it) for TSan:
  // both are inside libtbb.so. Chunks stay unordered among themselves.
  char fork = 0, join = 0;
  QEFF_TSAN_RELEASE(&fork);
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, n, grain),
      [&](const tbb::blocked_range<int64_t>& r) {
        QEFF_TSAN_ACQUIRE(&fork);
        fn(r.begin(), r.end());
        QEFF_TSAN_RELEASE(&join);
      },
      tbb::simple_partitioner());
  QEFF_TSAN_ACQUIRE(&join);
}

absl::Status KernelError(const KernelCtx& k, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("cpu kernel ", k.step.op, " (", k.step.label, "): ", what));
}

}  // namespace qeff::hw::cpu
