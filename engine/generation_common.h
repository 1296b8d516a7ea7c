// The rules every generation path shares (one source each): the argmax
// tie rule, the sampler hook, the capacity rule, prefill chunking, the
// logits check and per-sequence stats. Used by the instance scheduler
// (engine/instance_scheduler.h), the step-level Generator and the model
// API; no generation loop lives here.
#ifndef QEFF_ENGINE_GENERATION_COMMON_H_
#define QEFF_ENGINE_GENERATION_COMMON_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/sampler.h"
#include "hw/driver.h"
#include "ir/tensor.h"

namespace qeff::engine {

struct GenerationStats {
  double ttft_s = 0;        // prefill, up to the first token
  double decode_tok_s = 0;  // tokens after the first, per second of decode
  double total_tok_s = 0;   // generated tokens per second end to end
  double e2e_s = 0;
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

// The capacity rule (DESIGN.md), one source for every generation path and
// the model API: a prompt of L tokens and n generated tokens need
// L + n - 1 <= ctx_len. Returns the tokens to generate: n, or with
// `stop_at_ctx_len` as many as fit (the prompt itself must fit). Otherwise
// an error saying what ctx_len is needed.
absl::StatusOr<int64_t> TokensWithinCapacity(int64_t prompt_len,
                                             int64_t generation_len,
                                             int64_t ctx_len,
                                             bool stop_at_ctx_len = false);

// The batched shapes' check: rows (batch_size or full_batch_size, named
// `rows_name`), prefill_seq_len and ctx_len must be positive; an error
// names the first that is not.
absl::Status CheckBatchShape(absl::string_view rows_name, int64_t rows,
                             int64_t prefill_seq_len, int64_t ctx_len);

// One prefill chunk [rows, seq_len] from `start`: ids (padding: pad_id) and
// positions (padding: -1, which the cache never writes).
struct PrefillChunk {
  ir::Tensor input_ids, position_ids;
};
PrefillChunk MakePrefillChunk(const std::vector<int64_t>& prompt, int64_t start,
                              int64_t seq_len, int64_t pad_id);
// The same for several rows, row r from *rows[r].
PrefillChunk MakeBatchPrefillChunk(
    const std::vector<const std::vector<int64_t>*>& rows, int64_t start,
    int64_t seq_len, int64_t pad_id);

// The `logits` output of one call, checked to be [rows, 1, vocab]; an
// error says what the program gave.
absl::StatusOr<ir::Tensor> LogitsOf(const hw::TensorMap& out, int64_t rows);

// Seconds from `a` to `b`.
double SecondsBetween(std::chrono::steady_clock::time_point a,
                      std::chrono::steady_clock::time_point b);

// Stats of one sequence: from its start, its first token and its end, with
// `tokens` generated.
GenerationStats MakeGenerationStats(
    std::chrono::steady_clock::time_point start,
    std::chrono::steady_clock::time_point first_token,
    std::chrono::steady_clock::time_point end, int64_t tokens);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_GENERATION_COMMON_H_
