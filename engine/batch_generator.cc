#include "engine/batch_generator.h"

#include <chrono>
#include <deque>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::engine {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

absl::StatusOr<ir::Tensor> Logits(const hw::TensorMap& out, int64_t batch,
                                  absl::string_view spec) {
  auto it = out.find("logits");
  if (it == out.end())
    return absl::InternalError(
        absl::StrCat(spec, ": the program has no 'logits' output"));
  const ir::Tensor& t = it->second;
  if (t.rank() != 3 || t.dims()[0] != batch || t.dims()[1] != 1 ||
      t.dims()[2] <= 0) {
    return absl::InternalError(absl::StrCat(spec, ": logits are ",
                                            t.TypeString(), ", expected [",
                                            batch, ", 1, vocab]"));
  }
  return t;
}

absl::StatusOr<int64_t> Symbol(const hw::Specialization& s,
                               absl::string_view name) {
  auto it = s.symbols.find(std::string(name));
  if (it == s.symbols.end())
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization '", s.name, "' does not bind '", name, "'"));
  return it->second;
}

// One request in flight.
struct Active {
  size_t request = 0;
  int64_t limit = 0;     // tokens to generate (capped at ctx_len if asked)
  int64_t next_pos = 0;  // position of the next token fed to Decode
  Clock::time_point admitted, first_token;
};

}  // namespace

std::vector<hw::Specialization> ContinuousBatchingSpecializations(
    int64_t full_batch_size, int64_t prefill_seq_len, int64_t ctx_len) {
  return hw::CausalLMSpecializations(prefill_seq_len, ctx_len, 1,
                                     full_batch_size);
}

absl::StatusOr<ContinuousBatchOptions> ContinuousBatchOptionsFor(
    const std::vector<hw::Specialization>& specs) {
  const hw::Specialization* prefill = nullptr;
  const hw::Specialization* decode = nullptr;
  for (const auto& s : specs) {
    if (s.name == "Prefill") prefill = &s;
    if (s.name == "Decode") decode = &s;
  }
  if (!prefill || !decode)
    return absl::InvalidArgumentError(
        "continuous batching needs 'Prefill' and 'Decode' specializations");
  ContinuousBatchOptions o;
  QEFF_ASSIGN_OR_RETURN(int64_t pb, Symbol(*prefill, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(o.prefill_seq_len, Symbol(*prefill, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(o.ctx_len, Symbol(*prefill, "ctx_len"));
  QEFF_ASSIGN_OR_RETURN(o.full_batch_size, Symbol(*prefill, "full_batch_size"));
  QEFF_ASSIGN_OR_RETURN(int64_t db, Symbol(*decode, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(int64_t ds, Symbol(*decode, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t dc, Symbol(*decode, "ctx_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t df, Symbol(*decode, "full_batch_size"));
  if (pb != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Prefill': batch_size is ", pb, ", expected 1"));
  if (ds != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Decode': seq_len is ", ds, ", expected 1"));
  if (df != o.full_batch_size || db != o.full_batch_size)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Decode': batch_size ", db, " and full_batch_size ", df,
        " must both equal Prefill's full_batch_size ", o.full_batch_size));
  if (dc != o.ctx_len)
    return absl::InvalidArgumentError(
        absl::StrCat("specialization 'Decode': ctx_len ", dc,
                     " differs from Prefill's ", o.ctx_len));
  return o;
}

absl::StatusOr<BatchResult> ContinuousBatchGenerator::Generate(
    const std::vector<BatchRequest>& requests) {
  const ContinuousBatchOptions& o = options_;
  const int64_t F = o.full_batch_size;
  const int64_t S = o.prefill_seq_len;
  QEFF_RETURN_IF_ERROR(CheckBatchShape("full_batch_size", F, S, o.ctx_len));

  // Validate everything before any work; remember each request's length.
  BatchResult result;
  result.results.resize(requests.size());
  std::vector<int64_t> limit(requests.size());
  std::vector<bool> capped(requests.size(), false);
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
    limit[i] = *n;
    capped[i] = *n < r.generation_len;
  }

  // One seeded sampler per sampled request.
  std::vector<std::optional<Sampler>> samplers(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::Status sv = ValidateSamplingParams(requests[i].sampling);
    if (!sv.ok())
      return absl::Status(sv.code(),
                          absl::StrCat("request ", i, ": ", sv.message()));
    if (!IsPlainGreedy(requests[i].sampling))
      samplers[i].emplace(requests[i].sampling);
  }
  auto sampler_of = [&](size_t i) -> Sampler* {
    return samplers[i] ? &*samplers[i] : nullptr;
  };
  const auto t_start = Clock::now();
  QEFF_RETURN_IF_ERROR(session_->ResetState());
  std::deque<size_t> queue;
  for (size_t i = 0; i < requests.size(); ++i) queue.push_back(i);
  std::vector<Active> slots(F);
  std::vector<bool> busy(F, false);
  int64_t active_rows_sum = 0;

  auto emit = [&](Active& a, int64_t tok) {
    result.results[a.request].generation.token_ids.push_back(tok);
    ++result.stats.generated_tokens;
    if (o.on_token) o.on_token(a.request, tok);
  };
  // True when the request in `a` has finished after its latest token.
  auto finished = [&](const Active& a) {
    const GenerationResult& g = result.results[a.request].generation;
    const BatchRequest& r = requests[a.request];
    return g.token_ids.back() == r.eos_id ||
           static_cast<int64_t>(g.token_ids.size()) >= a.limit;
  };
  auto retire = [&](int64_t slot, Clock::time_point now) {
    Active& a = slots[slot];
    BatchRequestResult& br = result.results[a.request];
    GenerationResult& g = br.generation;
    g.stopped_at_eos = g.token_ids.back() == requests[a.request].eos_id;
    g.stopped_at_ctx_len = capped[a.request] && !g.stopped_at_eos &&
                           static_cast<int64_t>(g.token_ids.size()) == a.limit;
    br.retired_step = result.stats.decode_steps;
    g.stats = MakeGenerationStats(a.admitted, a.first_token, now,
                                  static_cast<int64_t>(g.token_ids.size()));
    busy[slot] = false;
  };
  // Prefills request `i` into `slot` and emits its first token.
  auto admit = [&](size_t i, int64_t slot) -> absl::Status {
    const std::vector<int64_t>& p = requests[i].prompt;
    const int64_t n = static_cast<int64_t>(p.size());
    Active& a = slots[slot];
    a = Active{};
    a.request = i;
    a.limit = limit[i];
    a.admitted = Clock::now();
    BatchRequestResult& br = result.results[i];
    br.slot = slot;
    br.queue_s = Seconds(t_start, a.admitted);
    br.admitted_step = result.stats.decode_steps;
    // The slot's cache rows start zeroed for the new request (DESIGN.md
    // "Custom ops"); masked slots then hold zeros, never a previous
    // request's keys.
    absl::Status reset = session_->ResetSlot(slot);
    if (!reset.ok())
      return absl::Status(reset.code(),
                          absl::StrCat("request ", i, ": ", reset.message()));
    hw::TensorMap out;
    for (int64_t start = 0; start < n; start += S) {
      PrefillChunk c = MakePrefillChunk(p, start, S, o.pad_id);
      auto run = session_->Run(
          "Prefill", {{"input_ids", c.input_ids},
                      {"position_ids", c.position_ids},
                      {"batch_index", ir::Tensor::I64({1, 1}, {slot})}});
      if (!run.ok())
        return absl::Status(
            run.status().code(),
            absl::StrCat("request ", i, ": prefill: ", run.status().message()));
      out = *std::move(run);
      ++result.stats.prefill_calls;
    }
    QEFF_ASSIGN_OR_RETURN(ir::Tensor logits, Logits(out, 1, "Prefill"));
    busy[slot] = true;
    a.first_token = Clock::now();
    a.next_pos = n;
    emit(a, PickToken(logits, 0, sampler_of(i), p,
                      result.results[i].generation.token_ids));
    if (finished(a)) retire(slot, a.first_token);
    return absl::OkStatus();
  };

  while (true) {
    // Fill every free slot (a request that finishes at prefill frees its
    // slot again at once).
    for (int64_t s = 0; s < F && !queue.empty(); ++s) {
      while (!busy[s] && !queue.empty()) {
        size_t i = queue.front();
        queue.pop_front();
        QEFF_RETURN_IF_ERROR(admit(i, s));
      }
    }
    int64_t active = 0;
    for (int64_t s = 0; s < F; ++s) active += busy[s];
    if (active == 0) break;  // the queue is empty too

    ir::Tensor ids = ir::Tensor::Zeros(ir::DType::kI64, {F, 1});
    ir::Tensor pos = ir::Tensor::Zeros(ir::DType::kI64, {F, 1});
    ir::Tensor index = ir::Tensor::Zeros(ir::DType::kI64, {F, 1});
    int64_t* idp = ids.mutable_data<int64_t>();
    int64_t* pp = pos.mutable_data<int64_t>();
    int64_t* bi = index.mutable_data<int64_t>();
    for (int64_t s = 0; s < F; ++s) {
      bi[s] = s;
      if (busy[s]) {
        idp[s] = result.results[slots[s].request].generation.token_ids.back();
        pp[s] = slots[s].next_pos;
      } else {
        idp[s] = o.pad_id;
        pp[s] = -1;
      }
    }
    auto run = session_->Run(
        "Decode",
        {{"input_ids", ids}, {"position_ids", pos}, {"batch_index", index}});
    if (!run.ok())
      return absl::Status(
          run.status().code(),
          absl::StrCat("decode step ", result.stats.decode_steps, ": ",
                       run.status().message()));
    ++result.stats.decode_steps;
    active_rows_sum += active;
    QEFF_ASSIGN_OR_RETURN(ir::Tensor logits, Logits(*run, F, "Decode"));
    const auto now = Clock::now();
    for (int64_t s = 0; s < F; ++s) {
      if (!busy[s]) continue;
      Active& a = slots[s];
      ++a.next_pos;
      emit(a, PickToken(logits, s, sampler_of(a.request),
                        requests[a.request].prompt,
                        result.results[a.request].generation.token_ids));
      if (finished(a)) retire(s, now);
    }
  }

  result.stats.wall_s = Seconds(t_start, Clock::now());
  result.stats.generated_tok_s =
      result.stats.wall_s > 0
          ? result.stats.generated_tokens / result.stats.wall_s
          : 0;
  result.stats.mean_active_rows =
      result.stats.decode_steps > 0
          ? static_cast<double>(active_rows_sum) / result.stats.decode_steps
          : 0;
  return result;
}

}  // namespace qeff::engine
