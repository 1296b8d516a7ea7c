// The model side of //tools:serve, without HTTP: loads the served models
// through the model API (compiled for each ctx_len, placed on the device
// pool), keeps one engine::Executor for all of them, and answers OpenAI
// completion requests (tools/openai_api.h) — whole, or as a stream of
// server-sent-event payloads. Requests are checked before any work
// (unknown model, tokenization, token ids, a prompt no compiled context
// fits, the queue limit) and get OpenAI-style errors.
#ifndef QEFF_TOOLS_COMPLETION_SERVICE_H_
#define QEFF_TOOLS_COMPLETION_SERVICE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/executor.h"
#include "engine/qeff_auto_model.h"
#include "tools/openai_api.h"

namespace qeff::tools {

struct ServiceOptions {
  int64_t prefill_seq_len = 32;
  std::vector<int64_t> ctx_lens = {128};  // one program per entry
  int64_t full_batch_size = 4;            // 0: batch-1 programs
  std::vector<std::string> devices = {"cpu"};
  bool place_on_all = false;  // every model on every device (else spread)
  int num_cores = 0;
  bool mxfp6_matmul = false, mxint8_kv_cache = false;
  int64_t max_queue = 64;  // prompts in flight before 429
};

struct ModelSpec {
  std::string name, path;
};
// "NAME=PATH"; an error names the bad value.
absl::StatusOr<ModelSpec> ParseModelSpec(const std::string& text);

class CompletionService {
 public:
  struct Reply {
    int status = 200;
    std::string body;  // JSON
  };
  // A started stream: Next() blocks for the next SSE payload (the JSON of
  // one chunk, or "[DONE]" last) and returns false after "[DONE]".
  class Stream {
   public:
    ~Stream() {
      if (on_close) on_close();
    }
    bool Next(std::string* payload);
    // The client went away: cancels its requests.
    void Cancel();

   private:
    friend class CompletionService;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> queue;
    bool done = false;
    engine::Executor* executor = nullptr;
    std::vector<engine::RequestId> ids;
    std::function<void()> on_close;  // the response is over
  };

  explicit CompletionService(ServiceOptions options)
      : options_(std::move(options)) {}
  ~CompletionService();

  // Loads and compiles every model (reusing artifacts in $QEFF_HOME);
  // ready() turns true when all are served.
  absl::Status Load(const std::vector<ModelSpec>& specs);
  bool ready() const { return ready_.load(); }
  std::vector<std::string> model_ids() const;

  // POST /v1/completions. A streaming request returns status 200 with an
  // empty body and sets *stream; errors come as a Reply.
  Reply Complete(const std::string& body, std::shared_ptr<Stream>* stream);

  // Graceful stop, first half: new requests get 503, and this waits (up
  // to `timeout`) until every open response — whole or streamed — is over.
  void Drain(std::chrono::milliseconds timeout);
  // Finishes what runs (kDrain), refuses new requests.
  void Shutdown();
  engine::ExecutorStats stats() const { return executor_.stats(); }

 private:
  Reply Answer(const std::string& body, std::shared_ptr<Stream>* stream);
  struct Served {
    std::string name;
    std::unique_ptr<engine::QEFFAutoModelForCausalLM> model;
    int64_t max_ctx = 0;
  };
  ServiceOptions options_;
  std::vector<Served> served_;  // outlives executor_
  engine::Executor executor_;
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> in_flight_{0};  // prompts queued or running
  std::atomic<int64_t> open_{0};       // responses not yet over
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_COMPLETION_SERVICE_H_
