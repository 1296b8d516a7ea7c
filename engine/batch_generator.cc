#include "engine/batch_generator.h"

#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::engine {
using Clock = std::chrono::steady_clock;

std::vector<hw::Specialization> ContinuousBatchingSpecializations(
    int64_t full_batch_size, int64_t prefill_seq_len, int64_t ctx_len) {
  return hw::CausalLMSpecializations(prefill_seq_len, ctx_len, 1,
                                     full_batch_size);
}

absl::StatusOr<ContinuousBatchOptions> ContinuousBatchOptionsFor(
    const std::vector<hw::Specialization>& specs) {
  QEFF_ASSIGN_OR_RETURN(BatchShape shape, ContinuousBatchShapeOf(specs));
  ContinuousBatchOptions o;
  o.full_batch_size = shape.rows;
  o.prefill_seq_len = shape.prefill_seq_len;
  o.ctx_len = shape.ctx_len;
  return o;
}

absl::StatusOr<BatchResult> ContinuousBatchGenerator::Generate(
    const std::vector<BatchRequest>& requests) {
  const ContinuousBatchOptions& o = options_;
  QEFF_RETURN_IF_ERROR(CheckBatchShape("full_batch_size", o.full_batch_size,
                                       o.prefill_seq_len, o.ctx_len));
  // Validate everything before any work.
  for (size_t i = 0; i < requests.size(); ++i) {
    const BatchRequest& r = requests[i];
    const int64_t L = static_cast<int64_t>(r.prompt.size());
    if (L == 0)
      return absl::InvalidArgumentError(
          absl::StrCat("request ", i, ": the prompt is empty"));
    for (size_t j = 0; j < r.prompt.size(); ++j) {
      int64_t id = r.prompt[j];
      if (id < 0 || (o.vocab_size > 0 && id >= o.vocab_size))
        return absl::InvalidArgumentError(absl::StrCat(
            "request ", i, ": prompt id ", id, " at index ", j,
            " is not a token id in [0, ",
            o.vocab_size > 0 ? absl::StrCat(o.vocab_size) : "vocab", ")"));
    }
    auto n =
        TokensWithinCapacity(L, r.generation_len, o.ctx_len, r.stop_at_ctx_len);
    if (!n.ok())
      return absl::Status(
          n.status().code(),
          absl::StrCat("request ", i, ": ", n.status().message()));
    absl::Status sv = ValidateSamplingParams(r.sampling);
    if (!sv.ok())
      return absl::Status(sv.code(),
                          absl::StrCat("request ", i, ": ", sv.message()));
  }
  std::vector<Request> queued;
  for (const BatchRequest& r : requests) {
    Request q;
    q.prompt_ids = r.prompt;
    q.generation_len = r.generation_len;
    q.eos_id = r.eos_id;
    q.stop_at_ctx_len = r.stop_at_ctx_len;
    q.sampling = r.sampling;
    queued.push_back(std::move(q));
  }
  BatchShape shape;
  shape.continuous = true;
  shape.rows = o.full_batch_size;
  shape.prefill_seq_len = o.prefill_seq_len;
  shape.ctx_len = o.ctx_len;
  const auto t0 = Clock::now();
  InstanceStats is;
  QEFF_ASSIGN_OR_RETURN(std::vector<RequestResult> rs,
                        RunOnSession(session_, shape, o.pad_id, o.vocab_size,
                                     std::move(queued), o.on_token, &is));
  BatchResult result;
  result.stats.wall_s = SecondsBetween(t0, Clock::now());
  for (const RequestResult& r : rs) {
    BatchRequestResult br;
    br.generation = ToGenerationResult(r);
    br.slot = r.stats.slot;
    br.queue_s = r.stats.queue_s;
    br.admitted_step = r.stats.admitted_step;
    br.retired_step = r.stats.retired_step;
    result.stats.generated_tokens += static_cast<int64_t>(r.token_ids.size());
    result.results.push_back(std::move(br));
  }
  result.stats.generated_tok_s =
      result.stats.wall_s > 0
          ? result.stats.generated_tokens / result.stats.wall_s
          : 0;
  result.stats.prefill_calls = is.prefill_steps;
  result.stats.decode_steps = is.decode_steps;
  result.stats.mean_active_rows = is.mean_active_rows;
  return result;
}

}  // namespace qeff::engine
