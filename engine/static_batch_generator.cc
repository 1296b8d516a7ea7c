#include "engine/static_batch_generator.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"

namespace qeff::engine {
namespace {

using Clock = std::chrono::steady_clock;

absl::StatusOr<int64_t> Symbol(const hw::Specialization& s,
                               absl::string_view name) {
  auto it = s.symbols.find(std::string(name));
  if (it == s.symbols.end())
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization '", s.name, "' does not bind '", name, "'"));
  return it->second;
}

// `status` with `prefix` in front of its message (same code).
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// The [B, 1, V] logits of one call.
absl::StatusOr<ir::Tensor> Logits(const hw::TensorMap& out, int64_t batch) {
  auto it = out.find("logits");
  if (it == out.end())
    return absl::InternalError("the program has no 'logits' output");
  const ir::Tensor& t = it->second;
  if (t.rank() != 3 || t.dims()[0] != batch || t.dims()[1] != 1 ||
      t.dims()[2] <= 0) {
    return absl::InternalError(absl::StrCat(
        "logits are ", t.TypeString(), ", expected [", batch, ", 1, vocab]"));
  }
  return t;
}

// Chunk [B, seq_len] of every row from `start` (MakePrefillChunk per row):
// ids (padding: pad_id) and positions (padding: -1).
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

}  // namespace

absl::StatusOr<StaticBatchOptions> StaticBatchOptionsFor(
    const std::vector<hw::Specialization>& specs) {
  const hw::Specialization* prefill = nullptr;
  const hw::Specialization* decode = nullptr;
  for (const auto& s : specs) {
    if (s.name == "Prefill") prefill = &s;
    if (s.name == "Decode") decode = &s;
  }
  if (!prefill || !decode)
    return absl::InvalidArgumentError(
        "static batching needs 'Prefill' and 'Decode' specializations");
  for (const hw::Specialization* s : {prefill, decode}) {
    if (s->symbols.contains("full_batch_size"))
      return absl::InvalidArgumentError(
          absl::StrCat("specialization '", s->name,
                       "' binds 'full_batch_size' (a continuous-batching "
                       "program; use ContinuousBatchGenerator)"));
  }
  StaticBatchOptions o;
  QEFF_ASSIGN_OR_RETURN(o.batch_size, Symbol(*prefill, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(o.prefill_seq_len, Symbol(*prefill, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(o.ctx_len, Symbol(*prefill, "ctx_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t db, Symbol(*decode, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(int64_t ds, Symbol(*decode, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t dc, Symbol(*decode, "ctx_len"));
  if (ds != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Decode': seq_len is ", ds, ", expected 1"));
  if (db != o.batch_size)
    return absl::InvalidArgumentError(
        absl::StrCat("specialization 'Decode': batch_size ", db,
                     " differs from Prefill's ", o.batch_size));
  if (dc != o.ctx_len)
    return absl::InvalidArgumentError(
        absl::StrCat("specialization 'Decode': ctx_len ", dc,
                     " differs from Prefill's ", o.ctx_len));
  return o;
}

absl::StatusOr<std::vector<GenerationResult>> StaticBatchGenerator::Generate(
    const std::vector<std::vector<int64_t>>& prompts, int64_t generation_len,
    int64_t eos_id) {
  const StaticBatchOptions& o = options_;
  const int64_t B = o.batch_size;
  const int64_t S = o.prefill_seq_len;
  QEFF_RETURN_IF_ERROR(CheckBatchShape("batch_size", B, S, o.ctx_len));

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

  std::vector<GenerationResult> results(prompts.size());
  QEFF_RETURN_IF_ERROR(ValidateSamplingParams(o.sampling));
  std::vector<std::optional<Sampler>> samplers(prompts.size());
  if (!IsPlainGreedy(o.sampling)) {
    for (size_t i = 0; i < prompts.size(); ++i) {
      SamplingParams sp = o.sampling;
      sp.seed += i;
      samplers[i].emplace(sp);
    }
  }
  // Row r of a group starting at `first`: its prompt's sampler (none for
  // filler rows, whose tokens are discarded).
  auto pick = [&](const ir::Tensor& logits, int64_t r, size_t first,
                  size_t real, const std::vector<int64_t>& prompt) {
    const size_t i = first + static_cast<size_t>(r);
    if (static_cast<size_t>(r) >= real || !samplers[i])
      return ArgmaxRow(logits, r);
    return PickToken(logits, r, &*samplers[i], prompt, results[i].token_ids);
  };
  const size_t group_size = static_cast<size_t>(B);
  for (size_t first = 0; first < prompts.size(); first += group_size) {
    const size_t end = std::min(prompts.size(), first + group_size);
    const size_t real = end - first;  // rows that carry a prompt
    const std::string where =
        absl::StrCat("group ", first / group_size, " (prompts ", first, "..",
                     end - 1, "): ");
    // Row r runs prompt first + r; filler rows repeat the last prompt.
    std::vector<const std::vector<int64_t>*> rows(B);
    int64_t max_len = 0;
    for (int64_t r = 0; r < B; ++r) {
      rows[r] = &prompts[std::min(first + static_cast<size_t>(r), end - 1)];
      max_len = std::max(max_len, static_cast<int64_t>(rows[r]->size()));
    }

    const auto t_start = Clock::now();
    absl::Status reset = session_->ResetState();
    if (!reset.ok()) return Prefixed(reset, where);

    // Prefill; row r's first token comes from the chunk holding its last
    // prompt token.
    std::vector<int64_t> last(B);  // each row's latest token
    const int64_t chunks = (max_len + S - 1) / S;
    for (int64_t c = 0; c < chunks; ++c) {
      PrefillChunk chunk = MakeBatchPrefillChunk(rows, c * S, S, o.pad_id);
      auto run =
          session_->Run("Prefill", {{"input_ids", chunk.input_ids},
                                    {"position_ids", chunk.position_ids}});
      if (!run.ok())
        return Prefixed(run.status(),
                        absl::StrCat(where, "prefill chunk ", c, ": "));
      auto logits = Logits(*run, B);
      if (!logits.ok())
        return Prefixed(logits.status(),
                        absl::StrCat(where, "prefill chunk ", c, ": "));
      for (int64_t r = 0; r < B; ++r) {
        const int64_t len = static_cast<int64_t>(rows[r]->size());
        if ((len - 1) / S == c)
          last[r] = pick(*logits, r, first, real, *rows[r]);
      }
    }
    const auto t_first = Clock::now();

    // done[r]: row r feeds position -1 from now on.
    std::vector<bool> done(B, false);
    std::vector<int64_t> next_pos(B);
    int64_t active = 0;
    auto emit = [&](int64_t r, Clock::time_point now) {
      const size_t i = first + static_cast<size_t>(r);
      GenerationResult& g = results[i];
      g.token_ids.push_back(last[r]);
      if (o.on_token) o.on_token(i, last[r]);
      if (last[r] == eos_id ||
          static_cast<int64_t>(g.token_ids.size()) >= generation_len) {
        done[r] = true;
        --active;
        g.stopped_at_eos = last[r] == eos_id;
        g.stats = MakeGenerationStats(t_start, t_first, now,
                                      static_cast<int64_t>(g.token_ids.size()));
      }
    };
    for (int64_t r = 0; r < B; ++r) {
      next_pos[r] = static_cast<int64_t>(rows[r]->size());
      if (static_cast<size_t>(r) < real) {
        ++active;
        emit(r, t_first);
      } else {
        done[r] = true;  // a filler row: its outputs are discarded
      }
    }

    for (int64_t step = 0; active > 0; ++step) {
      ir::Tensor ids = ir::Tensor::Zeros(ir::DType::kI64, {B, 1});
      ir::Tensor pos = ir::Tensor::Zeros(ir::DType::kI64, {B, 1});
      int64_t* idp = ids.mutable_data<int64_t>();
      int64_t* pp = pos.mutable_data<int64_t>();
      for (int64_t r = 0; r < B; ++r) {
        idp[r] = last[r];
        pp[r] = done[r] ? -1 : next_pos[r];
      }
      auto run =
          session_->Run("Decode", {{"input_ids", ids}, {"position_ids", pos}});
      if (!run.ok())
        return Prefixed(run.status(),
                        absl::StrCat(where, "decode step ", step, ": "));
      auto logits = Logits(*run, B);
      if (!logits.ok())
        return Prefixed(logits.status(),
                        absl::StrCat(where, "decode step ", step, ": "));
      const auto now = Clock::now();
      for (int64_t r = 0; r < B; ++r) {
        if (done[r]) continue;
        ++next_pos[r];
        last[r] = pick(*logits, r, first, real, *rows[r]);
        emit(r, now);
      }
    }
  }
  return results;
}

}  // namespace qeff::engine
