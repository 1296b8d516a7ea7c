// Profiler: a process-wide recorder of what a device spends its time on, for
// `--profile=trace.json` (infer, execute). Drivers record spans — one per
// kernel step on the thread that runs the plan, and one per parallel chunk
// on the thread that runs it — and the tool writes them in Chrome's
// trace-event format (chrome://tracing, Perfetto) plus a summary table per
// kernel (calls, total, share, mean) and per thread (busy time).
//
// Off by default: a driver asks `enabled()` (one relaxed atomic load) before
// taking a time stamp, so an unprofiled run pays nothing else. Recording is
// thread-safe (a mutex; profiled runs are slower by the clock reads and the
// lock, not by changing what the kernels compute). It holds at most
// max_spans spans (default 1e6, ~100 MB); later ones are counted as dropped,
// never grown without bound. It does not sample, read hardware counters or see
// inside a kernel.
#ifndef QEFF_HW_PROFILER_H_
#define QEFF_HW_PROFILER_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace qeff::hw {

class Profiler {
 public:
  // One interval of work. `name` is the kernel (the op); `category` is
  // "step" (a whole kernel step) or "chunk" (one thread's share of it);
  // `group` is what ran it (the specialization, e.g. "Prefill"); `detail`
  // names the graph node.
  struct Span {
    std::string name;
    std::string category;
    std::string group;
    std::string detail;
    int thread = 0;
    int64_t start_ns = 0;
    int64_t duration_ns = 0;
  };
  static constexpr size_t kDefaultMaxSpans = 1'000'000;

  explicit Profiler(size_t max_spans = kDefaultMaxSpans)
      : max_spans_(max_spans) {}
  static Profiler& Global();

  // Starts a new recording (drops what was recorded) or stops recording.
  void Start();
  void Stop();
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

  // A monotonic clock in nanoseconds, and a small stable id for the calling
  // thread (0, 1, 2, ... in order of first use).
  static int64_t NowNs();
  static int ThreadId();

  void Record(Span span);
  // Convenience: a span from `start_ns` to now on this thread.
  void RecordSince(const std::string& name, const char* category,
                   const std::string& group, const std::string& detail,
                   int64_t start_ns);

  std::vector<Span> spans() const;
  int64_t dropped() const;

  // Chrome trace-event JSON ({"traceEvents": [...]}, complete events "X"
  // with microsecond times), written atomically; errors name the path.
  absl::Status WriteChromeTrace(const std::string& path) const;
  // A text table per group (specialization): per kernel (steps) calls,
  // total ms, share of the group's step time, mean µs, sorted by total;
  // then per thread the busy time of its parallel chunks.
  std::string SummaryTable() const;

 private:
  const size_t max_spans_;
  std::atomic<bool> enabled_{false};
  mutable std::mutex mu_;
  std::vector<Span> spans_;
  int64_t dropped_ = 0;
};

}  // namespace qeff::hw

#endif  // QEFF_HW_PROFILER_H_
