#include "engine/generator.h"

#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"

namespace qeff::engine {

absl::StatusOr<ir::Tensor> Generator::Prefill(
    const std::vector<int64_t>& prompt, const GenerationOptions& o) {
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt is empty");
  if (o.prefill_seq_len <= 0)
    return absl::InvalidArgumentError("prefill_seq_len must be positive");
  if (static_cast<int64_t>(prompt.size()) > o.ctx_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("the prompt has ", prompt.size(),
                     " tokens, more than ctx_len ", o.ctx_len));
  }
  QEFF_RETURN_IF_ERROR(session_->ResetState());
  const int64_t n = static_cast<int64_t>(prompt.size());
  const int64_t s = o.prefill_seq_len;
  hw::TensorMap out;
  for (int64_t start = 0; start < n; start += s) {
    PrefillChunk c = MakePrefillChunk(prompt, start, s, o.pad_id);
    QEFF_ASSIGN_OR_RETURN(
        out, session_->Run("Prefill", {{"input_ids", c.input_ids},
                                       {"position_ids", c.position_ids}}));
  }
  return LogitsOf(out, 1);
}

absl::StatusOr<ir::Tensor> Generator::Decode(int64_t token, int64_t position) {
  QEFF_ASSIGN_OR_RETURN(
      hw::TensorMap out,
      session_->Run("Decode",
                    {{"input_ids", ir::Tensor::I64({1, 1}, {token})},
                     {"position_ids", ir::Tensor::I64({1, 1}, {position})}}));
  return LogitsOf(out, 1);
}

absl::StatusOr<GenerationResult> Generator::Generate(
    const std::vector<int64_t>& prompt, const GenerationOptions& o) {
  BatchShape shape;
  shape.rows = 1;
  shape.prefill_seq_len = o.prefill_seq_len;
  shape.ctx_len = o.ctx_len;
  QEFF_RETURN_IF_ERROR(
      CheckBatchShape("batch_size", 1, o.prefill_seq_len, o.ctx_len));
  // Capacity before any work (the executor would reject it too).
  QEFF_RETURN_IF_ERROR(TokensWithinCapacity(static_cast<int64_t>(prompt.size()),
                                            o.generation_len, o.ctx_len,
                                            o.stop_at_ctx_len)
                           .status());
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt is empty");
  Request q;
  q.prompt_ids = prompt;
  q.generation_len = o.generation_len;
  q.eos_id = o.eos_id;
  q.stop_at_ctx_len = o.stop_at_ctx_len;
  q.sampling = o.sampling;
  std::vector<Request> one;
  one.push_back(std::move(q));
  std::function<void(size_t, int64_t)> stream;
  if (o.on_token) stream = [&](size_t, int64_t t) { o.on_token(t); };
  auto rs = RunOnSession(session_, shape, o.pad_id, 0, std::move(one), stream);
  if (!rs.ok()) {
    // One request: drop the "request 0: " prefix.
    absl::string_view m = rs.status().message();
    absl::ConsumePrefix(&m, "request 0: ");
    return absl::Status(rs.status().code(), m);
  }
  GenerationResult r = ToGenerationResult((*rs)[0]);
  // As before the executor: capped means the request was cut to ctx_len.
  r.stopped_at_ctx_len =
      (*rs)[0].finish_reason == FinishReason::kContextLength ||
      (o.stop_at_ctx_len &&
       !TokensWithinCapacity(static_cast<int64_t>(prompt.size()),
                             o.generation_len, o.ctx_len)
            .ok());
  return r;
}

GenerationResult ToGenerationResult(const RequestResult& r) {
  GenerationResult g;
  g.token_ids = r.token_ids;
  g.stopped_at_eos = r.finish_reason == FinishReason::kEos;
  g.stopped_at_ctx_len = r.finish_reason == FinishReason::kContextLength;
  g.stats.ttft_s = r.stats.ttft_s;
  g.stats.e2e_s = r.stats.e2e_s;
  g.stats.decode_tok_s = r.stats.decode_tok_s;
  g.stats.total_tok_s =
      r.stats.e2e_s > 0
          ? static_cast<double>(r.token_ids.size()) / r.stats.e2e_s
          : 0;
  return g;
}

absl::StatusOr<std::vector<RequestResult>> RunOnSession(
    hw::Session* session, const BatchShape& shape, int64_t pad_id,
    int64_t vocab_size, std::vector<Request> requests,
    const std::function<void(size_t, int64_t)>& on_token,
    InstanceStats* instance_stats,
    const std::function<std::string(size_t)>& name_of) {
  Executor executor;
  ServedModel m;
  m.name = "session";
  m.vocab_size = vocab_size;
  m.pad_id = pad_id;
  ServedProgram p;
  p.session = session;
  p.shape = shape;
  m.programs.push_back(p);
  QEFF_RETURN_IF_ERROR(executor.AddModel(std::move(m)));
  if (on_token) {
    for (size_t i = 0; i < requests.size(); ++i) {
      requests[i].on_response = [&on_token, i](const Response& r) {
        for (int64_t t : r.token_ids) on_token(i, t);
      };
    }
  }
  QEFF_ASSIGN_OR_RETURN(std::vector<RequestId> ids,
                        executor.EnqueueBatch(std::move(requests)));
  std::vector<RequestResult> results;
  absl::Status first_error;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = executor.Wait(ids[i]);
    if (!r.ok()) {
      if (first_error.ok())
        first_error = absl::Status(
            r.status().code(),
            absl::StrCat(name_of ? name_of(i) : absl::StrCat("request ", i),
                         ": ", r.status().message()));
      continue;
    }
    results.push_back(*std::move(r));
  }
  executor.Shutdown();
  if (instance_stats) *instance_stats = executor.stats().instances.at(0);
  QEFF_RETURN_IF_ERROR(first_error);
  return results;
}

}  // namespace qeff::engine
