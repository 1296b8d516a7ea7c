#include "engine/generation_common.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace qeff::engine {

using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

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
  st.ttft_s = SecondsBetween(start, first_token);
  st.e2e_s = SecondsBetween(start, end);
  const double decode_s = SecondsBetween(first_token, end);
  const int64_t decoded = tokens - 1;
  st.decode_tok_s = decoded > 0 && decode_s > 0 ? decoded / decode_s : 0;
  st.total_tok_s = st.e2e_s > 0 ? static_cast<double>(tokens) / st.e2e_s : 0;
  return st;
}

PrefillChunk MakeBatchPrefillChunk(
    const std::vector<const std::vector<int64_t>*>& rows, int64_t start,
    int64_t seq_len, int64_t pad_id) {
  const int64_t b = static_cast<int64_t>(rows.size());
  PrefillChunk c{ir::Tensor::Zeros(ir::DType::kI64, {b, seq_len}),
                 ir::Tensor::Zeros(ir::DType::kI64, {b, seq_len})};
  int64_t* idp = c.input_ids.mutable_data<int64_t>();
  int64_t* pp = c.position_ids.mutable_data<int64_t>();
  for (int64_t r = 0; r < b; ++r) {
    const std::vector<int64_t>& p = *rows[r];
    const int64_t n = static_cast<int64_t>(p.size());
    for (int64_t j = 0; j < seq_len; ++j) {
      const bool real = start + j < n;
      idp[r * seq_len + j] = real ? p[start + j] : pad_id;
      pp[r * seq_len + j] = real ? start + j : -1;
    }
  }
  return c;
}

absl::StatusOr<ir::Tensor> LogitsOf(const hw::TensorMap& out, int64_t rows) {
  auto it = out.find("logits");
  if (it == out.end())
    return absl::InternalError("the program has no 'logits' output");
  const ir::Tensor& t = it->second;
  if (t.rank() != 3 || t.dims()[0] != rows || t.dims()[1] != 1 ||
      t.dims()[2] <= 0) {
    return absl::InternalError(absl::StrCat(
        "logits are ", t.TypeString(), ", expected [", rows, ", 1, vocab]"));
  }
  return t;
}

}  // namespace qeff::engine
