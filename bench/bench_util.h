// Helpers shared by the benchmark binaries in bench/: memory figures from
// /proc/self/status, a wall clock, and random Llama weights of any size
// (fast, seeded, not the test models' Box-Muller values: only the bytes'
// amount matters to the benchmarks, not their statistics).
#ifndef QEFF_BENCH_BENCH_UTIL_H_
#define QEFF_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <string>

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

// HF-named Llama weights (model.embed_tokens.weight, model.layers.N.*,
// model.norm.weight, lm_head.weight unless tied) of `dtype` (f32 or f16),
// uniform random with each matrix's fan-in scale; norms near 1.
absl::StatusOr<models::WeightMap> RandomLlamaWeights(
    const models::LlamaConfig& config, ir::DType dtype, uint64_t seed);

// Parameter count of `config` as RandomLlamaWeights makes it.
int64_t LlamaParameterCount(const models::LlamaConfig& config);

}  // namespace qeff::bench

#endif  // QEFF_BENCH_BENCH_UTIL_H_
