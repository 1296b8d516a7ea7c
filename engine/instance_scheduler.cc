#include "engine/instance_scheduler.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/generation_common.h"
#include "ir/tensor.h"

namespace qeff::engine {
namespace {

absl::Status Prefixed(const absl::Status& s, absl::string_view prefix) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

}  // namespace

absl::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone:
      return "";
    case FinishReason::kEos:
      return "eos";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kContextLength:
      return "ctx_len";
    case FinishReason::kStopString:
      return "stop";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kError:
      return "error";
  }
  return "";
}

absl::string_view StepKindName(StepKind kind) {
  return kind == StepKind::kPrefill ? "prefill" : "decode";
}

void InstanceScheduler::Admit(std::vector<SequencePtr> seqs) {
  for (SequencePtr& s : seqs) waiting_.push_back(std::move(s));
}

int64_t InstanceScheduler::active() const {
  int64_t n = 0;
  for (const SequencePtr& s : shape_.continuous ? slots_ : group_)
    if (s && s->finish == FinishReason::kNone) ++n;
  return n;
}

std::optional<StepKind> InstanceScheduler::NextStep() const {
  if (shape_.continuous) {
    if (prefilling_) return StepKind::kPrefill;
    const bool free_slot =
        static_cast<int64_t>(slots_.size()) < shape_.rows ||
        std::any_of(slots_.begin(), slots_.end(),
                    [](const SequencePtr& s) { return s == nullptr; });
    if (!waiting_.empty() && free_slot) return StepKind::kPrefill;
    if (active() > 0) return StepKind::kDecode;
    return std::nullopt;
  }
  if (group_running_)
    return group_chunk_ < group_chunks_ ? StepKind::kPrefill
                                        : StepKind::kDecode;
  if (!waiting_.empty()) return StepKind::kPrefill;
  return std::nullopt;
}

void InstanceScheduler::RunStep(StepKind kind, std::vector<StepEvent>* events) {
  if (shape_.continuous) {
    if (slots_.empty()) slots_.resize(shape_.rows);
    kind == StepKind::kPrefill ? ContinuousPrefill(events)
                               : ContinuousDecode(events);
  } else {
    kind == StepKind::kPrefill ? StaticPrefill(events) : StaticDecode(events);
  }
}

void InstanceScheduler::Emit(const SequencePtr& s, int64_t token,
                             std::vector<StepEvent>* events) {
  s->generated.push_back(token);
  ++counters_.generated_tokens;
  events->push_back(StepEvent{
      s, token, static_cast<int64_t>(s->generated.size()) - 1, false});
}

bool InstanceScheduler::FinishIfDone(const SequencePtr& s,
                                     std::vector<StepEvent>* events) {
  if (s->generated.back() == s->eos_id) {
    Finish(s, FinishReason::kEos, absl::OkStatus(), events);
  } else if (static_cast<int64_t>(s->generated.size()) >= s->limit) {
    Finish(s, s->capped ? FinishReason::kContextLength : FinishReason::kLength,
           absl::OkStatus(), events);
  } else if (s->stop_requested.load()) {
    Finish(s, FinishReason::kCancelled, absl::OkStatus(), events);
  } else {
    return false;
  }
  return true;
}

void InstanceScheduler::Finish(const SequencePtr& s, FinishReason reason,
                               absl::Status error,
                               std::vector<StepEvent>* events) {
  s->finish = reason;
  s->error = std::move(error);
  s->finished = Clock::now();
  s->retired_step = counters_.decode_steps;
  if (shape_.continuous && s->slot >= 0 &&
      s->slot < static_cast<int64_t>(slots_.size()) && slots_[s->slot] == s)
    slots_[s->slot] = nullptr;
  events->push_back(StepEvent{s, -1, -1, true});
}

SequencePtr InstanceScheduler::PopWaiting(std::vector<StepEvent>* events) {
  while (!waiting_.empty()) {
    SequencePtr s = std::move(waiting_.front());
    waiting_.pop_front();
    if (!s->stop_requested.load()) return s;
    s->admitted = Clock::now();
    Finish(s, FinishReason::kCancelled, absl::OkStatus(), events);
  }
  return nullptr;
}

// ---- continuous batching ----

void InstanceScheduler::ContinuousPrefill(std::vector<StepEvent>* events) {
  if (prefilling_ && prefilling_->stop_requested.load()) {
    Finish(prefilling_, FinishReason::kCancelled, absl::OkStatus(), events);
    prefilling_ = nullptr;
  }
  if (!prefilling_) {
    auto free = std::find(slots_.begin(), slots_.end(), nullptr);
    if (free == slots_.end()) return;
    SequencePtr s = PopWaiting(events);
    if (!s) return;
    s->slot = free - slots_.begin();
    s->admitted = Clock::now();
    s->admitted_step = counters_.decode_steps;
    *free = s;
    // The slot's cache rows start zeroed for the new sequence (DESIGN.md
    // "Custom ops"): masked positions hold zeros, never a previous
    // occupant's keys.
    absl::Status reset = session_->ResetSlot(s->slot);
    if (!reset.ok()) {
      Finish(s, FinishReason::kError, reset, events);
      return;
    }
    prefilling_ = s;
    prefill_start_ = 0;
  }
  const SequencePtr s = prefilling_;
  const int64_t n = static_cast<int64_t>(s->prompt.size());
  PrefillChunk c = MakePrefillChunk(s->prompt, prefill_start_,
                                    shape_.prefill_seq_len, pad_id_);
  auto run = session_->Run(
      "Prefill", {{"input_ids", c.input_ids},
                  {"position_ids", c.position_ids},
                  {"batch_index", ir::Tensor::I64({1, 1}, {s->slot})}});
  ++counters_.prefill_steps;
  ++s->prefill_steps;
  absl::StatusOr<ir::Tensor> logits =
      run.ok() ? LogitsOf(*run, 1) : absl::StatusOr<ir::Tensor>(run.status());
  if (!logits.ok()) {
    prefilling_ = nullptr;
    Finish(
        s, FinishReason::kError,
        Prefixed(logits.status(),
                 absl::StrCat("prefill chunk ",
                              prefill_start_ / shape_.prefill_seq_len, ": ")),
        events);
    return;
  }
  prefill_start_ += shape_.prefill_seq_len;
  if (prefill_start_ < n) return;
  prefilling_ = nullptr;
  s->first_token = Clock::now();
  s->next_pos = n;
  Emit(s,
       PickToken(*logits, 0, s->sampler ? &*s->sampler : nullptr, s->prompt,
                 s->generated),
       events);
  FinishIfDone(s, events);
}

void InstanceScheduler::ContinuousDecode(std::vector<StepEvent>* events) {
  const int64_t F = shape_.rows;
  int64_t active = 0;
  for (int64_t r = 0; r < F; ++r) {
    const SequencePtr s = slots_[r];
    if (!s) continue;
    if (s->stop_requested.load()) {
      Finish(s, FinishReason::kCancelled, absl::OkStatus(), events);
      continue;
    }
    ++active;
  }
  if (active == 0) return;
  ir::Tensor ids = ir::Tensor::Zeros(ir::DType::kI64, {F, 1});
  ir::Tensor pos = ir::Tensor::Zeros(ir::DType::kI64, {F, 1});
  ir::Tensor index = ir::Tensor::Zeros(ir::DType::kI64, {F, 1});
  int64_t* idp = ids.mutable_data<int64_t>();
  int64_t* pp = pos.mutable_data<int64_t>();
  int64_t* bi = index.mutable_data<int64_t>();
  for (int64_t r = 0; r < F; ++r) {
    bi[r] = r;
    const SequencePtr& s = slots_[r];
    idp[r] = s ? s->generated.back() : pad_id_;
    pp[r] = s ? s->next_pos : -1;
  }
  auto run = session_->Run(
      "Decode",
      {{"input_ids", ids}, {"position_ids", pos}, {"batch_index", index}});
  const int64_t step = counters_.decode_steps++;
  counters_.active_rows_sum += active;
  absl::StatusOr<ir::Tensor> logits =
      run.ok() ? LogitsOf(*run, F) : absl::StatusOr<ir::Tensor>(run.status());
  for (int64_t r = 0; r < F; ++r) {
    const SequencePtr s = slots_[r];
    if (!s) continue;
    if (!logits.ok()) {
      Finish(
          s, FinishReason::kError,
          Prefixed(logits.status(), absl::StrCat("decode step ", step, ": ")),
          events);
      continue;
    }
    ++s->next_pos;
    ++s->decode_steps;
    Emit(s,
         PickToken(*logits, r, s->sampler ? &*s->sampler : nullptr, s->prompt,
                   s->generated),
         events);
    FinishIfDone(s, events);
  }
}

// ---- static batching ----

void InstanceScheduler::StaticPrefill(std::vector<StepEvent>* events) {
  const int64_t B = shape_.rows;
  const int64_t S = shape_.prefill_seq_len;
  if (!group_running_) {
    group_.assign(B, nullptr);
    int64_t real = 0;
    while (real < B) {
      SequencePtr s = PopWaiting(events);
      if (!s) break;
      group_[real++] = std::move(s);
    }
    if (real == 0) return;
    group_prompts_.assign(B, nullptr);
    group_last_.assign(B, pad_id_);
    group_done_.assign(B, false);
    int64_t max_len = 0;
    const auto now = Clock::now();
    for (int64_t r = 0; r < B; ++r) {
      // Filler rows repeat the last prompt, so every row is a real sequence.
      group_prompts_[r] = &group_[std::min(r, real - 1)]->prompt;
      max_len =
          std::max(max_len, static_cast<int64_t>(group_prompts_[r]->size()));
      group_done_[r] = group_[r] == nullptr;
      if (group_[r]) {
        group_[r]->slot = r;
        group_[r]->admitted = now;
        group_[r]->admitted_step = counters_.decode_steps;
      }
    }
    group_chunk_ = 0;
    group_chunks_ = (max_len + S - 1) / S;
    group_running_ = true;
    absl::Status reset = session_->ResetState();
    if (!reset.ok()) {
      for (const SequencePtr& s : group_)
        if (s) Finish(s, FinishReason::kError, reset, events);
      group_running_ = false;
      return;
    }
  }
  const int64_t c = group_chunk_++;
  PrefillChunk chunk = MakeBatchPrefillChunk(group_prompts_, c * S, S, pad_id_);
  auto run = session_->Run("Prefill", {{"input_ids", chunk.input_ids},
                                       {"position_ids", chunk.position_ids}});
  ++counters_.prefill_steps;
  absl::StatusOr<ir::Tensor> logits =
      run.ok() ? LogitsOf(*run, B) : absl::StatusOr<ir::Tensor>(run.status());
  for (const SequencePtr& s : group_)
    if (s) ++s->prefill_steps;
  if (!logits.ok()) {
    for (const SequencePtr& s : group_)
      if (s && s->finish == FinishReason::kNone)
        Finish(
            s, FinishReason::kError,
            Prefixed(logits.status(), absl::StrCat("prefill chunk ", c, ": ")),
            events);
    group_running_ = false;
    return;
  }
  for (int64_t r = 0; r < B; ++r) {
    const int64_t len = static_cast<int64_t>(group_prompts_[r]->size());
    if ((len - 1) / S != c) continue;
    const SequencePtr& s = group_[r];
    group_last_[r] =
        s ? PickToken(*logits, r, s->sampler ? &*s->sampler : nullptr,
                      s->prompt, s->generated)
          : ArgmaxRow(*logits, r);
  }
  if (group_chunk_ < group_chunks_) return;
  const auto now = Clock::now();
  for (int64_t r = 0; r < B; ++r) {
    const SequencePtr& s = group_[r];
    if (!s) continue;
    s->first_token = now;
    s->next_pos = static_cast<int64_t>(s->prompt.size());
    Emit(s, group_last_[r], events);
    group_done_[r] = FinishIfDone(s, events);
  }
  EndGroupIfDone();
}

void InstanceScheduler::StaticDecode(std::vector<StepEvent>* events) {
  const int64_t B = shape_.rows;
  int64_t active = 0;
  for (int64_t r = 0; r < B; ++r) {
    const SequencePtr& s = group_[r];
    if (group_done_[r]) continue;
    if (s->stop_requested.load()) {
      Finish(s, FinishReason::kCancelled, absl::OkStatus(), events);
      group_done_[r] = true;
      continue;
    }
    ++active;
  }
  if (active == 0) {
    EndGroupIfDone();
    return;
  }
  ir::Tensor ids = ir::Tensor::Zeros(ir::DType::kI64, {B, 1});
  ir::Tensor pos = ir::Tensor::Zeros(ir::DType::kI64, {B, 1});
  int64_t* idp = ids.mutable_data<int64_t>();
  int64_t* pp = pos.mutable_data<int64_t>();
  for (int64_t r = 0; r < B; ++r) {
    idp[r] = group_last_[r];
    pp[r] = group_done_[r] ? -1 : group_[r]->next_pos;
  }
  auto run =
      session_->Run("Decode", {{"input_ids", ids}, {"position_ids", pos}});
  const int64_t step = counters_.decode_steps++;
  counters_.active_rows_sum += active;
  absl::StatusOr<ir::Tensor> logits =
      run.ok() ? LogitsOf(*run, B) : absl::StatusOr<ir::Tensor>(run.status());
  for (int64_t r = 0; r < B; ++r) {
    if (group_done_[r]) continue;
    const SequencePtr& s = group_[r];
    if (!logits.ok()) {
      Finish(
          s, FinishReason::kError,
          Prefixed(logits.status(), absl::StrCat("decode step ", step, ": ")),
          events);
      group_done_[r] = true;
      continue;
    }
    ++s->next_pos;
    ++s->decode_steps;
    group_last_[r] = PickToken(*logits, r, s->sampler ? &*s->sampler : nullptr,
                               s->prompt, s->generated);
    Emit(s, group_last_[r], events);
    group_done_[r] = FinishIfDone(s, events);
  }
  EndGroupIfDone();
}

void InstanceScheduler::EndGroupIfDone() {
  if (std::all_of(group_done_.begin(), group_done_.end(),
                  [](bool d) { return d; })) {
    group_running_ = false;
    group_.clear();
    group_prompts_.clear();
  }
}

}  // namespace qeff::engine
