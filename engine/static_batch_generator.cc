#include "engine/static_batch_generator.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"

namespace qeff::engine {
namespace {

absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace

absl::StatusOr<StaticBatchOptions> StaticBatchOptionsFor(
    const std::vector<hw::Specialization>& specs) {
  QEFF_ASSIGN_OR_RETURN(BatchShape shape, StaticBatchShapeOf(specs));
  StaticBatchOptions o;
  o.batch_size = shape.rows;
  o.prefill_seq_len = shape.prefill_seq_len;
  o.ctx_len = shape.ctx_len;
  return o;
}

absl::StatusOr<std::vector<GenerationResult>> StaticBatchGenerator::Generate(
    const std::vector<std::vector<int64_t>>& prompts, int64_t generation_len,
    int64_t eos_id) {
  const StaticBatchOptions& o = options_;
  QEFF_RETURN_IF_ERROR(CheckBatchShape("batch_size", o.batch_size,
                                       o.prefill_seq_len, o.ctx_len));
  // Validate every prompt before any work.
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::string prefix = absl::StrCat("prompt ", i, ": ");
    if (prompts[i].empty())
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "the prompt is empty"));
    auto n = TokensWithinCapacity(static_cast<int64_t>(prompts[i].size()),
                                  generation_len, o.ctx_len);
    if (!n.ok()) return Prefixed(n.status(), prefix);
  }
  QEFF_RETURN_IF_ERROR(ValidateSamplingParams(o.sampling));
  std::vector<Request> queued;
  for (size_t i = 0; i < prompts.size(); ++i) {
    Request q;
    q.prompt_ids = prompts[i];
    q.generation_len = generation_len;
    q.eos_id = eos_id;
    q.sampling = o.sampling;
    q.sampling.seed += i;  // prompt i draws from seed + i
    queued.push_back(std::move(q));
  }
  BatchShape shape;
  shape.rows = o.batch_size;
  shape.prefill_seq_len = o.prefill_seq_len;
  shape.ctx_len = o.ctx_len;
  QEFF_ASSIGN_OR_RETURN(
      std::vector<RequestResult> rs,
      RunOnSession(session_, shape, o.pad_id, 0, std::move(queued), o.on_token,
                   nullptr, [&](size_t i) {
                     const size_t b = o.batch_size;
                     const size_t first = i / b * b;
                     const size_t last =
                         std::min(prompts.size(), first + b) - 1;
                     return absl::StrCat("group ", i / b, " (prompts ", first,
                                         "..", last, ")");
                   }));
  std::vector<GenerationResult> results;
  for (const RequestResult& r : rs) results.push_back(ToGenerationResult(r));
  return results;
}

}  // namespace qeff::engine
