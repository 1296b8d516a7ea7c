// The scheduling state of one loaded program (an "instance": one session on
// one device) and the one device step it runs next. The executor's step node
// (engine/executor.h) owns one and calls it serially, one step per message;
// no generation loop runs here.
//
// Two kinds, from the program's shape (engine/batch_shapes.h):
//  - continuous batching (F slots): a waiting sequence is admitted into the
//    lowest free slot (Session::ResetSlot zeroes its cache rows) and
//    prefilled one chunk of S per step (batch_index = slot, the last chunk
//    padded with position -1); its first token comes from the last chunk.
//    A decode step runs all F rows: an active row feeds its last token at
//    its next position, a free row pad_id at position -1 with batch_index =
//    its slot (it writes nothing). Admission has priority over decode, so a
//    freed slot is refilled before the next decode step.
//  - static batching (B rows, batch 1 included): when no group runs, up to
//    B waiting sequences (queue order) form a group; Session::ResetState,
//    then ceil(longest prompt / S) prefill steps over all rows (a row's
//    first token from the chunk holding its last prompt token; an
//    incomplete group's empty rows repeat its last prompt and are
//    discarded), then decode steps until every row has finished (a finished
//    row feeds its last token at position -1).
// A sequence finishes after emitting eos_id, after `limit` tokens, or when
// stop is requested (Cancel, a stop string), which takes effect at its
// next step. Token choice is engine::PickToken (argmax with the lowest id
// on ties, or the sequence's seeded sampler), so with a batch-invariant
// driver every sequence gets the tokens it gets alone.
//
// A device error fails the sequences of that step (a prefill: its
// sequence or group; a decode: every active row) with the error; the
// instance goes on with the next ones. Not thread-safe (one caller).
#ifndef QEFF_ENGINE_INSTANCE_SCHEDULER_H_
#define QEFF_ENGINE_INSTANCE_SCHEDULER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/batch_shapes.h"
#include "engine/sampler.h"
#include "hw/driver.h"

namespace qeff::engine {

enum class FinishReason {
  kNone,
  kEos,            // emitted eos_id
  kLength,         // generation_len tokens
  kContextLength,  // capped at ctx_len (stop_at_ctx_len) and reached it
  kStopString,     // the text reached a stop string
  kCancelled,      // Cancel, or the executor aborted
  kError,          // a device or request error (the status says)
};
// "eos", "length", "ctx_len", "stop", "cancelled", "error" ("" for kNone).
absl::string_view FinishReasonName(FinishReason reason);

// One request's sequence as the step node sees it.
struct Sequence {
  using Clock = std::chrono::steady_clock;
  uint64_t id = 0;
  std::vector<int64_t> prompt;     // ids, BOS included if wanted
  int64_t limit = 0;               // tokens to generate (capacity applied)
  bool capped = false;             // limit was cut to fit ctx_len
  int64_t eos_id = -1;             // -1: never
  std::optional<Sampler> sampler;  // none: greedy
  // Set from any thread (Cancel, a stop string); the scheduler retires the
  // sequence at its next step.
  std::atomic<bool> stop_requested{false};

  // Written by the scheduler.
  std::vector<int64_t> generated;
  int64_t slot = -1;  // its cache row / batch row
  int64_t next_pos = 0;
  int64_t admitted_step = 0;  // the instance's decode steps before admission
  int64_t retired_step = 0;   // ... when it finished
  int64_t prefill_steps = 0;  // prefill step messages it ran in
  int64_t decode_steps = 0;   // decode step messages that gave it a token
  Clock::time_point admitted, first_token, finished;
  FinishReason finish = FinishReason::kNone;
  absl::Status error;
};
using SequencePtr = std::shared_ptr<Sequence>;

// What a step produced: a token of `seq` (its index-th), or its end
// (`final`, seq->finish and seq->error set).
struct StepEvent {
  SequencePtr seq;
  int64_t token = -1;
  int64_t index = -1;
  bool final = false;
};

enum class StepKind { kPrefill, kDecode };
absl::string_view StepKindName(StepKind kind);  // "prefill" / "decode"

class InstanceScheduler {
 public:
  // `session` (not owned) runs a program of `shape`; `pad_id` feeds padding
  // and idle rows.
  InstanceScheduler(hw::Session* session, BatchShape shape, int64_t pad_id)
      : session_(session), shape_(shape), pad_id_(pad_id) {}

  const BatchShape& shape() const { return shape_; }

  // Queues sequences for admission, in order.
  void Admit(std::vector<SequencePtr> seqs);

  // The step to run next, if any: prefill while a sequence is mid-prefill
  // or a waiting one can be admitted, else decode while rows are active.
  std::optional<StepKind> NextStep() const;

  // Runs one step (at most one device call; none when every candidate had
  // been stopped) and appends its events.
  void RunStep(StepKind kind, std::vector<StepEvent>* events);

  int64_t waiting() const { return static_cast<int64_t>(waiting_.size()); }
  // Sequences admitted and not finished.
  int64_t active() const;

  struct Counters {
    int64_t prefill_steps = 0;    // device prefill calls
    int64_t decode_steps = 0;     // device decode calls
    int64_t active_rows_sum = 0;  // active rows over decode steps
    int64_t generated_tokens = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  using Clock = Sequence::Clock;
  void Emit(const SequencePtr& s, int64_t token,
            std::vector<StepEvent>* events);
  // Finishes `s` if its latest token ends it; true when it did.
  bool FinishIfDone(const SequencePtr& s, std::vector<StepEvent>* events);
  void Finish(const SequencePtr& s, FinishReason reason, absl::Status error,
              std::vector<StepEvent>* events);
  // The next waiting sequence not stopped (stopped ones are finished as
  // cancelled); null when none.
  SequencePtr PopWaiting(std::vector<StepEvent>* events);

  void ContinuousPrefill(std::vector<StepEvent>* events);
  void ContinuousDecode(std::vector<StepEvent>* events);
  void StaticPrefill(std::vector<StepEvent>* events);
  void StaticDecode(std::vector<StepEvent>* events);
  void EndGroupIfDone();

  hw::Session* session_;
  BatchShape shape_;
  int64_t pad_id_;
  std::deque<SequencePtr> waiting_;
  Counters counters_;

  // Continuous batching: slot -> sequence (null: free); the sequence being
  // prefilled and its next chunk start.
  std::vector<SequencePtr> slots_;
  SequencePtr prefilling_;
  int64_t prefill_start_ = 0;

  // Static batching: the running group (row -> sequence, null: a filler
  // row), the prompt each row feeds, its latest token, whether it is done.
  std::vector<SequencePtr> group_;
  std::vector<const std::vector<int64_t>*> group_prompts_;
  std::vector<int64_t> group_last_;
  std::vector<bool> group_done_;
  int64_t group_chunk_ = 0, group_chunks_ = 0;
  bool group_running_ = false;
};

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_INSTANCE_SCHEDULER_H_
