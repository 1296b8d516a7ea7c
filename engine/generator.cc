#include "engine/generator.h"

#include <chrono>
#include <optional>

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

int64_t Argmax(const ir::Tensor& logits) { return ArgmaxRow(logits, 0); }

int64_t ArgmaxRow(const ir::Tensor& logits, int64_t row) {
  const int64_t v = logits.dims().back();
  const int64_t base = row * v;
  int64_t best = 0;
  double best_val = logits.GetDouble(base);
  for (int64_t i = 1; i < v; ++i) {
    double x = logits.GetDouble(base + i);
    if (x > best_val) {
      best_val = x;
      best = i;
    }
  }
  return best;
}

bool IsPlainGreedy(const SamplingParams& p) {
  return p.temperature == 0.0f && p.repetition_penalty == 1.0f &&
         p.presence_penalty == 0.0f;
}

int64_t PickToken(const ir::Tensor& logits, int64_t row, Sampler* sampler,
                  const std::vector<int64_t>& prompt,
                  const std::vector<int64_t>& generated) {
  if (sampler == nullptr) return ArgmaxRow(logits, row);
  const int64_t v = logits.dims().back();
  std::vector<float> l(v);
  for (int64_t i = 0; i < v; ++i) l[i] = logits.GetDouble(row * v + i);
  return sampler->Sample(l.data(), v, prompt, generated);
}

absl::StatusOr<int64_t> TokensWithinCapacity(int64_t prompt_len,
                                             int64_t generation_len,
                                             int64_t ctx_len,
                                             bool stop_at_ctx_len) {
  if (generation_len <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("generation_len must be positive, got ", generation_len));
  if (prompt_len + generation_len - 1 <= ctx_len) return generation_len;
  if (stop_at_ctx_len && prompt_len <= ctx_len) return ctx_len - prompt_len + 1;
  return absl::InvalidArgumentError(absl::StrCat(
      "a prompt of ", prompt_len, " tokens and ", generation_len,
      " generated tokens need ctx_len >= ", prompt_len + generation_len - 1,
      ", but ctx_len is ", ctx_len));
}

absl::Status CheckBatchShape(absl::string_view rows_name, int64_t rows,
                             int64_t prefill_seq_len, int64_t ctx_len) {
  for (auto [name, v] : {std::pair<absl::string_view, int64_t>{rows_name, rows},
                         {"prefill_seq_len", prefill_seq_len},
                         {"ctx_len", ctx_len}}) {
    if (v <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be positive, got ", v));
  }
  return absl::OkStatus();
}

PrefillChunk MakePrefillChunk(const std::vector<int64_t>& prompt, int64_t start,
                              int64_t seq_len, int64_t pad_id) {
  PrefillChunk c{ir::Tensor::Zeros(ir::DType::kI64, {1, seq_len}),
                 ir::Tensor::Zeros(ir::DType::kI64, {1, seq_len})};
  int64_t* idp = c.input_ids.mutable_data<int64_t>();
  int64_t* pp = c.position_ids.mutable_data<int64_t>();
  const int64_t n = static_cast<int64_t>(prompt.size());
  for (int64_t j = 0; j < seq_len; ++j) {
    const bool real = start + j < n;
    idp[j] = real ? prompt[start + j] : pad_id;
    pp[j] = real ? start + j : -1;
  }
  return c;
}

GenerationStats MakeGenerationStats(Clock::time_point start,
                                    Clock::time_point first_token,
                                    Clock::time_point end, int64_t tokens) {
  GenerationStats st;
  st.ttft_s = Seconds(start, first_token);
  st.e2e_s = Seconds(start, end);
  const double decode_s = Seconds(first_token, end);
  const int64_t decoded = tokens - 1;
  st.decode_tok_s = decoded > 0 && decode_s > 0 ? decoded / decode_s : 0;
  st.total_tok_s = st.e2e_s > 0 ? static_cast<double>(tokens) / st.e2e_s : 0;
  return st;
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
    PrefillChunk c = MakePrefillChunk(prompt, start, s, o.pad_id);
    QEFF_ASSIGN_OR_RETURN(
        out, session_->Run("Prefill", {{"input_ids", c.input_ids},
                                       {"position_ids", c.position_ids}}));
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
  const int64_t L = static_cast<int64_t>(prompt.size());
  QEFF_ASSIGN_OR_RETURN(
      const int64_t n,
      TokensWithinCapacity(L, o.generation_len, o.ctx_len, o.stop_at_ctx_len));
  GenerationResult r;
  r.stopped_at_ctx_len = n < o.generation_len;
  QEFF_RETURN_IF_ERROR(ValidateSamplingParams(o.sampling));
  std::optional<Sampler> sampler;
  if (!IsPlainGreedy(o.sampling)) sampler.emplace(o.sampling);
  Sampler* sp = sampler ? &*sampler : nullptr;
  auto t0 = Clock::now();
  QEFF_ASSIGN_OR_RETURN(ir::Tensor logits, Prefill(prompt, o));
  int64_t tok = PickToken(logits, 0, sp, prompt, r.token_ids);
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
    tok = PickToken(logits, 0, sp, prompt, r.token_ids);
    r.token_ids.push_back(tok);
    if (o.on_token) o.on_token(tok);
  }
  if (tok == o.eos_id) r.stopped_at_eos = true;
  r.stats = MakeGenerationStats(t0, t1, Clock::now(),
                                static_cast<int64_t>(r.token_ids.size()));
  return r;
}

}  // namespace qeff::engine
