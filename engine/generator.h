// Batch-1 generation on one session, driven two ways:
//  - Generate: one request through the executor's graph (engine/executor.h)
//    on this session — the one generation path; prefill in chunks of the
//    Prefill specialization's seq_len (the last chunk padded with position
//    -1), then one Decode step per token;
//  - Prefill / Decode: single steps, for teacher-forced comparisons (the
//    caller feeds the tokens; nothing is generated).
//
// Capacity (DESIGN.md): a prompt of L tokens and n generated tokens need
// L + n - 1 <= ctx_len; anything more is an error before any work, unless
// `stop_at_ctx_len` asks to stop there (the result says so).
#ifndef QEFF_ENGINE_GENERATOR_H_
#define QEFF_ENGINE_GENERATOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/batch_shapes.h"
#include "engine/executor.h"
#include "engine/generation_common.h"
#include "engine/sampler.h"
#include "hw/driver.h"

namespace qeff::engine {

struct GenerationOptions {
  int64_t prefill_seq_len = 32;  // the Prefill specialization's seq_len
  int64_t ctx_len = 128;
  int64_t generation_len = 32;  // tokens to generate, including the first
  int64_t eos_id = -1;          // stop after emitting it; -1: never
  bool stop_at_ctx_len = false;
  int64_t pad_id = 0;  // input id of padding slots (any id works)
  // Called with each new token as it is produced (streaming output).
  std::function<void(int64_t)> on_token;
  // QEfficient's sampler parameters (default: greedy argmax).
  SamplingParams sampling;
};

struct GenerationResult {
  std::vector<int64_t> token_ids;  // generated ids only
  GenerationStats stats;
  bool stopped_at_ctx_len = false;
  bool stopped_at_eos = false;
};

// Logits of the most recent call, for teacher-forced comparisons: the
// Generator can also be driven step by step.
class Generator {
 public:
  explicit Generator(hw::Session* session) : session_(session) {}

  absl::StatusOr<GenerationResult> Generate(const std::vector<int64_t>& prompt,
                                            const GenerationOptions& options);

  // Runs the prompt through prefill chunks (state reset first) and returns
  // the logits [1, 1, vocab] at its last token.
  absl::StatusOr<ir::Tensor> Prefill(const std::vector<int64_t>& prompt,
                                     const GenerationOptions& options);
  // Feeds one token at `position`; returns logits [1, 1, vocab].
  absl::StatusOr<ir::Tensor> Decode(int64_t token, int64_t position);

 private:
  hw::Session* session_;
};

// The façades' common path (Generator, ContinuousBatchGenerator,
// StaticBatchGenerator): `requests` through an executor serving only
// `session` (not owned) with `shape`, enqueued together; one result per
// request in order, or the first failure as "request i: ...".
// `on_token(i, token)` streams (from a graph thread, one call at a time);
// `instance_stats` receives the session's step counts; `name_of(i)`
// names request i in errors (default "request i").
absl::StatusOr<std::vector<RequestResult>> RunOnSession(
    hw::Session* session, const BatchShape& shape, int64_t pad_id,
    int64_t vocab_size, std::vector<Request> requests,
    const std::function<void(size_t, int64_t)>& on_token,
    InstanceStats* instance_stats = nullptr,
    const std::function<std::string(size_t)>& name_of = nullptr);

// A result as the façades report it (stats from the request's enqueue).
GenerationResult ToGenerationResult(const RequestResult& r);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_GENERATOR_H_
