#include "engine/generator.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::engine {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

absl::StatusOr<ir::Tensor> Logits(const hw::TensorMap& out) {
  auto it = out.find("logits");
  if (it == out.end())
    return absl::InternalError("the program has no 'logits' output");
  const ir::Tensor& t = it->second;
  if (t.rank() != 3 || t.dims()[0] != 1 || t.dims()[1] != 1) {
    return absl::InternalError(absl::StrCat("logits are ", t.TypeString(),
                                            ", expected [1, 1, vocab]"));
  }
  return t;
}

}  // namespace

int64_t Argmax(const ir::Tensor& logits) {
  int64_t v = logits.dims().back();
  int64_t best = 0;
  double best_val = logits.GetDouble(0);
  for (int64_t i = 1; i < v; ++i) {
    double x = logits.GetDouble(i);
    if (x > best_val) {
      best_val = x;
      best = i;
    }
  }
  return best;
}

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
    ir::Tensor ids = ir::Tensor::Zeros(ir::DType::kI64, {1, s});
    ir::Tensor pos = ir::Tensor::Zeros(ir::DType::kI64, {1, s});
    int64_t* idp = ids.mutable_data<int64_t>();
    int64_t* pp = pos.mutable_data<int64_t>();
    for (int64_t j = 0; j < s; ++j) {
      bool real = start + j < n;
      idp[j] = real ? prompt[start + j] : o.pad_id;
      pp[j] = real ? start + j : -1;
    }
    QEFF_ASSIGN_OR_RETURN(
        out,
        session_->Run("Prefill", {{"input_ids", ids}, {"position_ids", pos}}));
  }
  return Logits(out);
}

absl::StatusOr<ir::Tensor> Generator::Decode(int64_t token, int64_t position) {
  QEFF_ASSIGN_OR_RETURN(
      hw::TensorMap out,
      session_->Run("Decode",
                    {{"input_ids", ir::Tensor::I64({1, 1}, {token})},
                     {"position_ids", ir::Tensor::I64({1, 1}, {position})}}));
  return Logits(out);
}

absl::StatusOr<GenerationResult> Generator::Generate(
    const std::vector<int64_t>& prompt, const GenerationOptions& o) {
  if (o.generation_len <= 0)
    return absl::InvalidArgumentError("generation_len must be positive");
  const int64_t L = static_cast<int64_t>(prompt.size());
  int64_t n = o.generation_len;
  GenerationResult r;
  if (L + n - 1 > o.ctx_len) {
    if (!o.stop_at_ctx_len || L > o.ctx_len) {
      return absl::InvalidArgumentError(
          absl::StrCat("a prompt of ", L, " tokens and ", n,
                       " generated tokens need ctx_len >= ", L + n - 1,
                       ", but ctx_len is ", o.ctx_len));
    }
    n = o.ctx_len - L + 1;
    r.stopped_at_ctx_len = true;
  }
  auto t0 = Clock::now();
  QEFF_ASSIGN_OR_RETURN(ir::Tensor logits, Prefill(prompt, o));
  int64_t tok = Argmax(logits);
  auto t1 = Clock::now();
  r.token_ids.push_back(tok);
  if (o.on_token) o.on_token(tok);
  int64_t position = L;
  while (static_cast<int64_t>(r.token_ids.size()) < n) {
    if (tok == o.eos_id) {
      r.stopped_at_eos = true;
      break;
    }
    QEFF_ASSIGN_OR_RETURN(logits, Decode(tok, position++));
    tok = Argmax(logits);
    r.token_ids.push_back(tok);
    if (o.on_token) o.on_token(tok);
  }
  if (tok == o.eos_id) r.stopped_at_eos = true;
  auto t2 = Clock::now();
  r.stats.ttft_s = Seconds(t0, t1);
  r.stats.e2e_s = Seconds(t0, t2);
  double decode_s = Seconds(t1, t2);
  int64_t decoded = static_cast<int64_t>(r.token_ids.size()) - 1;
  r.stats.decode_tok_s = decoded > 0 && decode_s > 0 ? decoded / decode_s : 0;
  r.stats.total_tok_s =
      r.stats.e2e_s > 0
          ? static_cast<double>(r.token_ids.size()) / r.stats.e2e_s
          : 0;
  return r;
}

}  // namespace qeff::engine
