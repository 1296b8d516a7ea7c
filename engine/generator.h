// Generation on one session: prefill the prompt in chunks of the Prefill
// specialization's seq_len (the last chunk padded with position -1), then
// decode one token at a time with the Decode specialization. Greedy
// (argmax, lowest id on ties). Batch size 1 per call; continuous batching
// comes with the device scheduler.
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

struct GenerationStats {
  double ttft_s = 0;        // prefill, up to the first token
  double decode_tok_s = 0;  // tokens after the first, per second of decode
  double total_tok_s = 0;   // generated tokens per second end to end
  double e2e_s = 0;
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

// Index of the largest logit in the last dimension of a [1, 1, V] tensor
// (lowest index on ties).
int64_t Argmax(const ir::Tensor& logits);
// The same rule on row `row` of a [B, 1, V] tensor.
int64_t ArgmaxRow(const ir::Tensor& logits, int64_t row);

// Whether `p` is plain greedy decoding (no penalty, temperature 0).
bool IsPlainGreedy(const SamplingParams& p);
// The next token of row `row` of [B, 1, V] logits: ArgmaxRow, or the
// sampler's pick (its penalties see `prompt` and `generated`) when given.
int64_t PickToken(const ir::Tensor& logits, int64_t row, Sampler* sampler,
                  const std::vector<int64_t>& prompt,
                  const std::vector<int64_t>& generated);

// The capacity rule (DESIGN.md), one source for every generator and the
// model API: a prompt of L tokens and n generated tokens need
// L + n - 1 <= ctx_len. Returns the tokens to generate: n, or with
// `stop_at_ctx_len` as many as fit (the prompt itself must fit). Otherwise
// an error saying what ctx_len is needed.
absl::StatusOr<int64_t> TokensWithinCapacity(int64_t prompt_len,
                                             int64_t generation_len,
                                             int64_t ctx_len,
                                             bool stop_at_ctx_len = false);

// The batched generators' shape check: rows (batch_size or
// full_batch_size, named `rows_name`), prefill_seq_len and ctx_len must be
// positive; an error names the first that is not.
absl::Status CheckBatchShape(absl::string_view rows_name, int64_t rows,
                             int64_t prefill_seq_len, int64_t ctx_len);

// One prefill chunk [1, seq_len] of `prompt` from `start`: ids (padding:
// pad_id) and positions (padding: -1, which the cache never writes).
struct PrefillChunk {
  ir::Tensor input_ids, position_ids;
};
PrefillChunk MakePrefillChunk(const std::vector<int64_t>& prompt, int64_t start,
                              int64_t seq_len, int64_t pad_id);

// Stats of one sequence: from its start, its first token and its end, with
// `tokens` generated.
GenerationStats MakeGenerationStats(
    std::chrono::steady_clock::time_point start,
    std::chrono::steady_clock::time_point first_token,
    std::chrono::steady_clock::time_point end, int64_t tokens);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_GENERATOR_H_
