// Inference as a oneTBB flow graph: several models, each compiled for one
// or more shapes and loaded on a pool of devices, serve requests at once
// (DESIGN.md "The engine's pattern"). TensorRT-LLM's executor shape:
// Enqueue → id, streamed responses, Cancel, Shutdown (drain or abort),
// per-request and engine stats.
//
// The graph:
//   tokenize (concurrent) → route (serial) ─try_put→ step[i] (serial, one
//   per instance) ⟲ (its own next step, through an edge to itself)
//                                              └→ stream (serial)
//  - tokenize: a text prompt becomes ids (BOS only when the tokenizer adds
//    one); ids are checked against the vocabulary.
//  - route: picks the model's program with the smallest ctx_len that holds
//    the prompt and its generation_len (with stop_at_ctx_len, else the
//    largest that holds the prompt, capped there); a request nothing fits
//    is rejected before any work. Among that program's instances (one per
//    device) it picks the least loaded (sequences routed and not finished,
//    per row).
//  - step[i]: one instance (a session on one device) and its
//    InstanceScheduler; each message is one prefill or decode step (at most
//    one device call), so no generation loop runs inside a node body; after
//    each step the node sends its next step to itself until no sequence is
//    left. Kernels run in the device's task_arena (Session::Run).
//  - stream: tokens become whole-UTF-8 text pieces (the completion is the
//    concatenation of the pieces), stop strings end a request (the text
//    stops before the stop string; text that may begin one is held back),
//    and responses are delivered: to the request's on_response callback
//    (called on a graph thread, one at a time — it must not block on this
//    executor) or queued for AwaitResponses; a final response is always
//    kept until Wait or AwaitResponses reads it.
//
// Requests enqueued together (EnqueueBatch) that route to one instance are
// admitted in order in one message, so a static-batch program groups them
// as given (QEfficient's batches). With a batch-invariant driver (cpu,
// reference) a request's tokens do not depend on what else runs.
//
// Not done here: placement by device memory (sessions are loaded where
// AddModel says; the KV cache is checked against host memory by the model
// API before compiling), preemption, prefix caching, and speculative
// decoding.
#ifndef QEFF_ENGINE_EXECUTOR_H_
#define QEFF_ENGINE_EXECUTOR_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/batch_shapes.h"
#include "engine/instance_scheduler.h"
#include "engine/sampler.h"
#include "hw/driver.h"
#include "models/tokenizer.h"

namespace qeff::engine {

using RequestId = uint64_t;

struct Response;

struct Request {
  std::string model;  // a ServedModel name; empty: the only model
  // A text prompt (tokenized with the model's tokenizer), else prompt_ids
  // as given.
  std::optional<std::string> prompt;
  std::vector<int64_t> prompt_ids;
  int64_t generation_len = 32;  // tokens to generate, the first included
  bool stop_at_eos = true;
  // Overrides the model's EOS id (-1: never stop on a token).
  std::optional<int64_t> eos_id;
  // Generate only as far as ctx_len allows instead of rejecting.
  bool stop_at_ctx_len = false;
  // The completion ends before the first of these that its text reaches.
  std::vector<std::string> stop_strings;
  SamplingParams sampling;  // default: greedy
  // Streaming: called with each response on a graph thread (one call at a
  // time over the executor); the final response is also kept for
  // Wait/AwaitResponses. Without it, every response queues for them.
  std::function<void(const Response&)> on_response;
};

struct RequestStats {
  std::string instance;     // "<model>@<device>" (or the caller's label)
  int64_t ctx_len = 0;      // of the program it ran on
  int64_t slot = -1;        // its cache row (continuous) or batch row
  double queue_s = 0;       // enqueue to admission
  double ttft_s = 0;        // enqueue to its first token
  double decode_tok_s = 0;  // tokens after the first per second
  double e2e_s = 0;         // enqueue to its end
  // Its instance's decode steps before its admission / at its end.
  int64_t admitted_step = 0, retired_step = 0;
  // Step messages it took part in: prefill chunks, and decode steps (one
  // per token after the first).
  int64_t prefill_steps = 0, decode_steps = 0;
};

struct RequestResult {
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> token_ids;  // generated (a stop string's included)
  std::string text;                // the completion ("" without a tokenizer)
  FinishReason finish_reason = FinishReason::kNone;
  RequestStats stats;
};

struct Response {
  RequestId id = 0;
  std::vector<int64_t> token_ids;  // new tokens
  std::string text;                // new text: whole UTF-8 characters
  bool is_final = false;
  // Final only: OK with the whole result, or the reason it failed.
  absl::Status status;
  std::shared_ptr<const RequestResult> result;
};

// One program served by AddModel: loaded from `program` on each of
// `devices` (device specs; the executor opens each spec once and shares
// the device between models), or a session the caller owns (it must
// outlive the executor).
struct ServedProgram {
  std::shared_ptr<const hw::Program> program;
  std::vector<std::string> devices = {"cpu"};
  int num_cores = 0;  // per session; 0: the device's
  hw::Session* session = nullptr;
  // The shape; none: read from the program's specializations.
  std::optional<BatchShape> shape;
  std::string label;  // the instance's device name in stats (borrowed)
};

struct ServedModel {
  std::string name;
  std::shared_ptr<const models::Tokenizer> tokenizer;  // null: ids only
  int64_t vocab_size = 0;  // prompt ids must be below it; 0: the tokenizer's
  int64_t eos_id = -1;     // -1: the tokenizer's (none without one)
  int64_t pad_id = 0;
  std::vector<ServedProgram> programs;
};

struct InstanceStats {
  std::string name;  // "<model>@<device>"
  BatchShape shape;
  int64_t prefill_steps = 0, decode_steps = 0, generated_tokens = 0;
  double mean_active_rows = 0;  // per decode step
};

struct ExecutorStats {
  int64_t enqueued = 0, completed = 0, failed = 0, cancelled = 0;
  int64_t generated_tokens = 0;
  std::vector<InstanceStats> instances;
};

enum class ShutdownMode { kDrain, kAbort };

class Executor {
 public:
  Executor();
  // Shutdown(kAbort).
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Loads the model's programs (one instance per device each). Names are
  // unique; a program whose shape is not a causal-LM generation shape, a
  // device that cannot be opened or a session that cannot be loaded is an
  // error naming it, and nothing of the model is kept.
  absl::Status AddModel(ServedModel model);

  // Queues a request; errors only for what is wrong before any work
  // (unknown model, no prompt, bad sampling parameters, shut down). Later
  // failures (tokenization, routing, the device) arrive as a final
  // response with the status.
  absl::StatusOr<RequestId> Enqueue(Request request);
  // Several at once: all are checked before any is queued; those routed to
  // one instance are admitted in order together.
  absl::StatusOr<std::vector<RequestId>> EnqueueBatch(
      std::vector<Request> requests);

  // The responses of `id` queued so far, waiting up to `timeout` for one
  // (none: until one comes). After its final response the id is
  // forgotten. A request with on_response queues only its final response.
  absl::StatusOr<std::vector<Response>> AwaitResponses(
      RequestId id,
      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Waits for the final response of `id`: its result, or its error.
  absl::StatusOr<RequestResult> Wait(RequestId id);

  // Stops `id` at its next step (its result so far is final, reason
  // cancelled). False when it is unknown or already finished.
  bool Cancel(RequestId id);

  // Stops accepting requests; kDrain finishes every queued request, kAbort
  // cancels them; returns when the graph is idle. Idempotent.
  void Shutdown(ShutdownMode mode = ShutdownMode::kDrain);

  ExecutorStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_EXECUTOR_H_
