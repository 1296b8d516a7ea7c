// Continuous batching on one session of a continuous-batching program
// (transform_lm with `continuous_batching`; inputs input_ids, position_ids,
// batch_index; retained caches [full_batch_size, ...]) compiled for a
// "Prefill" specialization (batch_size 1, seq_len S) and a "Decode"
// specialization (batch_size = full_batch_size F, seq_len 1).
//
// ContinuousBatchGenerator::Generate serves a list of requests with F
// cache slots through the executor's graph (engine/executor.h) on this one
// session — the one generation path; the slot schedule (admission into the
// lowest free slot with its rows zeroed, chunked prefill, decode over all F
// rows, refill before the next decode step) is engine/instance_scheduler.h.
// With a batch-invariant driver (cpu, reference) every request gets exactly
// the tokens engine::Generator gives it alone.
//
// All requests are validated before any work (empty prompt, ids outside
// [0, vocab_size), generation_len <= 0, capacity L + n - 1 <= ctx_len unless
// `stop_at_ctx_len`, sampling parameters); an error names the request by
// its index, as does a device error ("request i: decode step k: ...").
//
// Not thread-safe; one Generate at a time per session. For several models,
// devices and streams of requests use engine::Executor directly.
#ifndef QEFF_ENGINE_BATCH_GENERATOR_H_
#define QEFF_ENGINE_BATCH_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/generator.h"
#include "hw/driver.h"
#include "hw/specialization.h"

namespace qeff::engine {

struct BatchRequest {
  std::vector<int64_t> prompt;  // token ids, BOS included if wanted
  int64_t generation_len = 32;  // tokens to generate, including the first
  int64_t eos_id = -1;          // stop after emitting it; -1: never
  bool stop_at_ctx_len = false;
  SamplingParams sampling;  // default: greedy argmax
};

struct ContinuousBatchOptions {
  int64_t full_batch_size = 0;   // F: cache rows (the Decode batch_size)
  int64_t prefill_seq_len = 32;  // the Prefill specialization's seq_len
  int64_t ctx_len = 128;
  // Prompt ids must lie in [0, vocab_size); 0: not checked here (the device
  // then sees the ids as given).
  int64_t vocab_size = 0;
  int64_t pad_id = 0;  // input id of padding and idle rows (any id works)
  // Called with (request index, token) as each token is produced.
  std::function<void(size_t, int64_t)> on_token;
};

// Reads F, S and ctx_len from a program's specializations ("Prefill" with
// batch_size 1, "Decode" with batch_size = full_batch_size, seq_len 1, the
// same ctx_len and full_batch_size); anything else is an error naming the
// specialization and symbol. vocab_size is left 0.
absl::StatusOr<ContinuousBatchOptions> ContinuousBatchOptionsFor(
    const std::vector<hw::Specialization>& specs);

// The Prefill/Decode pair for a continuous-batching program.
std::vector<hw::Specialization> ContinuousBatchingSpecializations(
    int64_t full_batch_size, int64_t prefill_seq_len, int64_t ctx_len);

struct BatchRequestResult {
  // token_ids and stats as engine::Generator reports them, with ttft_s and
  // e2e_s measured from admission (the start of its prefill);
  // stopped_at_eos: its last token is eos_id; stopped_at_ctx_len: its length
  // was capped at ctx_len (stop_at_ctx_len) and it ran to that cap.
  GenerationResult generation;
  int64_t slot = -1;   // the cache row it ran in
  double queue_s = 0;  // from the start of Generate to its admission
  // Decode steps run before its admission / before it retired (a request
  // that finishes at prefill retires at its admission step).
  int64_t admitted_step = 0;
  int64_t retired_step = 0;
};

struct BatchStats {
  double wall_s = 0;             // the whole Generate call
  int64_t generated_tokens = 0;  // over all requests
  double generated_tok_s = 0;    // generated_tokens / wall_s
  int64_t prefill_calls = 0;     // Prefill chunks run
  int64_t decode_steps = 0;      // Decode calls run
  double mean_active_rows = 0;   // active rows per decode step, averaged
};

struct BatchResult {
  std::vector<BatchRequestResult> results;  // in request order
  BatchStats stats;
};

class ContinuousBatchGenerator {
 public:
  // `session` runs a continuous-batching program matching `options`; not
  // owned.
  ContinuousBatchGenerator(hw::Session* session,
                           const ContinuousBatchOptions& options)
      : session_(session), options_(options) {}

  absl::StatusOr<BatchResult> Generate(
      const std::vector<BatchRequest>& requests);

 private:
  hw::Session* session_;
  ContinuousBatchOptions options_;
};

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_BATCH_GENERATOR_H_
