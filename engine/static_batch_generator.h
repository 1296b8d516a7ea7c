// Static batching (QEfficient's `batch_size` > 1 without continuous
// batching) on one session of a non-continuous-batching program
// (transform_lm without `continuous_batching`; inputs input_ids and
// position_ids [B, S]; logits [B, 1, V] taken per row at that row's largest
// position; retained caches [B, ...]) compiled for a "Prefill"
// specialization (batch_size B, seq_len S) and a "Decode" specialization
// (batch_size B, seq_len 1), as hw::CausalLMSpecializations(S, ctx_len, B, 0)
// builds them.
//
// StaticBatchGenerator::Generate runs the prompts in groups of B, in order
// (prompts [g*B, (g+1)*B) form group g), through the executor's graph
// (engine/executor.h) on this one session — the one generation path; the
// group schedule (state reset, batched prefill chunks, batched decode until
// every row has finished, an incomplete last group padded with its last
// prompt and those rows discarded) is engine/instance_scheduler.h. With a
// batch-invariant driver (cpu, reference) every prompt gets exactly the
// tokens engine::Generator gives it alone on a batch-1 program (tested).
//
// All prompts are validated before any work (empty prompt, generation_len
// <= 0, capacity L + n - 1 <= ctx_len — engine::TokensWithinCapacity, no
// stop_at_ctx_len); an error names the prompt ("prompt i: ..."); a device
// error names the request and the prefill chunk or decode step.
//
// Not thread-safe; one Generate at a time per session.
#ifndef QEFF_ENGINE_STATIC_BATCH_GENERATOR_H_
#define QEFF_ENGINE_STATIC_BATCH_GENERATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/generator.h"
#include "hw/driver.h"
#include "hw/specialization.h"

namespace qeff::engine {

struct StaticBatchOptions {
  int64_t batch_size = 0;        // B: rows per call (both specializations)
  int64_t prefill_seq_len = 32;  // the Prefill specialization's seq_len
  int64_t ctx_len = 128;
  int64_t pad_id = 0;  // input id of padding slots (any id works)
  // Called with (prompt index, token) as each token is produced (not for
  // the filler rows of an incomplete group).
  std::function<void(size_t prompt, int64_t token)> on_token;
  // Sampler parameters for every prompt; prompt i draws from seed + i.
  SamplingParams sampling;
};

// Reads B, S and ctx_len from a program's specializations: "Prefill"
// (batch_size B, seq_len S, ctx_len) and "Decode" (batch_size B, seq_len 1,
// the same ctx_len), neither binding full_batch_size (that is a
// continuous-batching program); anything else is an error naming the
// specialization and symbol.
absl::StatusOr<StaticBatchOptions> StaticBatchOptionsFor(
    const std::vector<hw::Specialization>& specs);

class StaticBatchGenerator {
 public:
  // `session` runs a non-continuous-batching program matching `options`;
  // not owned.
  StaticBatchGenerator(hw::Session* session, StaticBatchOptions options)
      : session_(session), options_(std::move(options)) {}

  // One GenerationResult per prompt, in order; generation_len tokens each
  // (including the first) unless a row emits `eos_id` (-1: never) first.
  // Stats are measured from the start of the prompt's group (ttft_s: the
  // group's prefill). stopped_at_ctx_len is always false.
  absl::StatusOr<std::vector<GenerationResult>> Generate(
      const std::vector<std::vector<int64_t>>& prompts, int64_t generation_len,
      int64_t eos_id);

 private:
  hw::Session* session_;
  StaticBatchOptions options_;
};

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_STATIC_BATCH_GENERATOR_H_
