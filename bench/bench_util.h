// Helpers shared by the benchmark binaries in bench/: memory figures from
// /proc/self/status, a wall clock, child processes with their peak RSS, the
// host's streaming read bandwidth, and random Llama weights of any size
// (fast, seeded, not the test models' Box-Muller values: only the bytes'
// amount matters to the benchmarks, not their statistics).
#ifndef QEFF_BENCH_BENCH_UTIL_H_
#define QEFF_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/dtype.h"
#include "models/arch/builder_util.h"
#include "models/arch/llama.h"

namespace qeff::bench {

// Memory of this process in KiB, from /proc/self/status (-1 when a field is
// absent).
struct ProcMemory {
  long vm_rss = -1;    // VmRSS: resident, anonymous + file + shmem
  long rss_anon = -1;  // RssAnon: resident anonymous (heap, copies)
  long rss_file = -1;  // RssFile: resident file-backed (mmapped weights)
  long vm_hwm = -1;    // VmHWM: peak VmRSS
};
ProcMemory ReadProcMemory();

// Resets VmHWM to the current VmRSS (writes "5" to /proc/self/clear_refs).
absl::Status ResetPeakRss();

double NowSeconds();  // steady clock

// Where the peers live: $QEFF_PEERS_DIR, else setup.sh's default
// $HOME/.cache/qeff/peers (`bazel run` passes the client's environment, not
// the tests' --test_env).
std::string PeersDir();

// A finished child process: its exit code (128 + the signal when killed),
// everything it wrote to its pipe, and its peak resident set (wait4's
// ru_maxrss, KiB).
struct ChildResult {
  int exit_code = -1;
  std::string out;
  long max_rss_kib = 0;
};

// Runs `argv` (argv[0] a path; no shell) with stdout to a pipe that is read
// to the end and stderr appended to `stderr_path` ("" discards it); waits
// for it with wait4(). Errors: fork/exec/pipe failures.
absl::StatusOr<ChildResult> RunProcess(const std::vector<std::string>& argv,
                                       const std::string& stderr_path = "");

// Forks; the child runs `fn(fd)` (writing its results to fd), flushes stdio
// and _exits with fn's return value. The parent reads fd to the end and
// waits with wait4(): the child's own peak RSS, apart from the parent's.
// Flush stdout before calling (the child inherits unflushed buffers).
absl::StatusOr<ChildResult> RunInChild(const std::function<int(int fd)>& fn);

// Writes all of `s` to `fd` (retrying short writes).
bool WriteAll(int fd, const std::string& s);

// The host's streaming read bandwidth in GB/s (1e9 bytes/s): `threads`
// threads each sum their share of one `bytes` buffer (touched first), best
// of `tries` passes.
double ReadBandwidthGBs(size_t bytes, int threads, int tries);

// HF-named Llama weights (model.embed_tokens.weight, model.layers.N.*,
// model.norm.weight, lm_head.weight unless tied) of `dtype` (f32 or f16),
// uniform random with each matrix's fan-in scale; norms near 1.
absl::StatusOr<models::WeightMap> RandomLlamaWeights(
    const models::LlamaConfig& config, ir::DType dtype, uint64_t seed);

// Parameter count of `config` as RandomLlamaWeights makes it.
int64_t LlamaParameterCount(const models::LlamaConfig& config);

}  // namespace qeff::bench

#endif  // QEFF_BENCH_BENCH_UTIL_H_
