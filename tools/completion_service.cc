#include "tools/completion_service.h"

#include <chrono>
#include <thread>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "engine/generation_common.h"
#include "tools/cli.h"

namespace qeff::tools {
namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CompletionService::Reply Error(int status, std::string message,
                               std::string param = "", std::string code = "",
                               std::string type = "invalid_request_error") {
  ApiError e;
  e.http_status = status;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = std::move(code);
  e.type = std::move(type);
  return {status, ApiErrorJson(e)};
}

// HTTP status for an engine error.
int HttpStatusOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

absl::StatusOr<ModelSpec> ParseModelSpec(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return absl::InvalidArgumentError(
        absl::StrCat("--model '", text, "': expected NAME=PATH"));
  return ModelSpec{text.substr(0, eq), text.substr(eq + 1)};
}

CompletionService::~CompletionService() { executor_.Shutdown(); }

absl::Status CompletionService::Load(const std::vector<ModelSpec>& specs) {
  if (specs.empty())
    return absl::InvalidArgumentError("give at least one --model=NAME=PATH");
  if (options_.devices.empty())
    return absl::InvalidArgumentError("--device: no device");
  for (size_t i = 0; i < specs.size(); ++i) {
    const ModelSpec& spec = specs[i];
    for (const Served& s : served_)
      if (s.name == spec.name)
        return absl::InvalidArgumentError(
            absl::StrCat("--model: the name '", spec.name, "' is used twice"));
    engine::FromPretrainedOptions fo;
    fo.continuous_batching = options_.full_batch_size > 0;
    auto model =
        engine::QEFFAutoModelForCausalLM::FromPretrained(spec.path, fo);
    if (!model.ok())
      return absl::Status(
          model.status().code(),
          absl::StrCat("model '", spec.name, "': ", model.status().message()));
    std::vector<std::string> devices =
        options_.place_on_all
            ? options_.devices
            : std::vector<std::string>{
                  options_.devices[i % options_.devices.size()]};
    engine::ServedModel sm;
    sm.name = spec.name;
    const models::LoadedModel& lm = (*model)->model();
    if (lm.tokenizer)
      sm.tokenizer = std::shared_ptr<const models::Tokenizer>(
          std::shared_ptr<void>(), lm.tokenizer.get());  // served_ owns it
    sm.vocab_size = lm.config.vocab_size;
    Served served;
    served.name = spec.name;
    for (int64_t ctx : options_.ctx_lens) {
      engine::CompileParams cp;
      cp.prefill_seq_len = options_.prefill_seq_len;
      cp.ctx_len = ctx;
      cp.full_batch_size = options_.full_batch_size;
      cp.num_cores = options_.num_cores;
      cp.mxfp6_matmul = options_.mxfp6_matmul;
      cp.mxint8_kv_cache = options_.mxint8_kv_cache;
      cp.device = devices[0];
      QEFF_RETURN_IF_ERROR(FitToDevice(&cp));
      auto dir = (*model)->Compile(cp);
      if (!dir.ok())
        return absl::Status(dir.status().code(),
                            absl::StrCat("model '", spec.name, "' ctx_len ",
                                         ctx, ": ", dir.status().message()));
      engine::ServedProgram sp;
      sp.program = (*model)->program();
      sp.devices = devices;
      sp.num_cores = cp.num_cores;
      sm.programs.push_back(sp);
      served.max_ctx = std::max(served.max_ctx, ctx);
    }
    served.model = *std::move(model);
    served_.push_back(std::move(served));
    QEFF_RETURN_IF_ERROR(executor_.AddModel(std::move(sm)));
  }
  ready_ = true;
  return absl::OkStatus();
}

std::vector<std::string> CompletionService::model_ids() const {
  std::vector<std::string> ids;
  for (const Served& s : served_) ids.push_back(s.name);
  return ids;
}

void CompletionService::Drain(std::chrono::milliseconds timeout) {
  ready_ = false;
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (open_.load() > 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

void CompletionService::Shutdown() {
  ready_ = false;
  executor_.Shutdown(engine::ShutdownMode::kDrain);
}

bool CompletionService::Stream::Next(std::string* payload) {
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return !queue.empty(); });
  *payload = std::move(queue.front());
  queue.pop_front();
  return *payload != "[DONE]";
}

void CompletionService::Stream::Cancel() {
  for (engine::RequestId id : ids) executor->Cancel(id);
}

CompletionService::Reply CompletionService::Complete(
    const std::string& body, std::shared_ptr<Stream>* stream) {
  ++open_;
  Reply r = Answer(body, stream);
  if (!*stream) --open_;  // a stream is over when its provider lets go
  return r;
}

CompletionService::Reply CompletionService::Answer(
    const std::string& body, std::shared_ptr<Stream>* stream) {
  if (!ready_)
    return Error(503, "the server is loading its models or shutting down", "",
                 "", "server_error");
  auto parsed = ParseCompletionRequest(body);
  if (auto* e = std::get_if<ApiError>(&parsed))
    return {e->http_status, ApiErrorJson(*e)};
  CompletionRequest& c = std::get<CompletionRequest>(parsed);
  const Served* served = nullptr;
  for (const Served& s : served_)
    if (s.name == c.model) served = &s;
  if (!served)
    return Error(404,
                 absl::StrCat("The model '", c.model,
                              "' does not exist; this server serves: ",
                              absl::StrJoin(model_ids(), ", ")),
                 "model", "model_not_found");
  const models::LoadedModel& lm = served->model->model();
  // Prompts as ids, checked before any work.
  std::vector<engine::Request> requests;
  std::vector<int64_t> prompt_tokens;
  for (size_t i = 0; i < c.prompts.size(); ++i) {
    std::vector<int64_t> ids;
    if (const auto* text = std::get_if<std::string>(&c.prompts[i])) {
      if (!lm.tokenizer)
        return Error(400,
                     absl::StrCat("model '", c.model,
                                  "' has no tokenizer: send token ids"),
                     "prompt");
      auto enc = lm.tokenizer->EncodePrompt(*text);
      if (!enc.ok())
        return Error(400, std::string(enc.status().message()), "prompt");
      ids.assign(enc->begin(), enc->end());
    } else {
      ids = std::get<std::vector<int64_t>>(c.prompts[i]);
    }
    if (ids.empty()) return Error(400, "the prompt has no tokens", "prompt");
    for (int64_t id : ids)
      if (id >= lm.config.vocab_size)
        return Error(
            400,
            absl::StrCat("token id ", id, " is not below the vocabulary size ",
                         lm.config.vocab_size),
            "prompt");
    auto fits =
        engine::TokensWithinCapacity(static_cast<int64_t>(ids.size()),
                                     c.request.generation_len, served->max_ctx);
    if (!fits.ok())
      return Error(400,
                   absl::StrCat("prompt ", i, ": ", fits.status().message(),
                                " (the largest context this server compiled "
                                "for '",
                                c.model, "')"),
                   "max_tokens", "context_length_exceeded");
    engine::Request q = c.request;
    q.model = c.model;
    q.prompt_ids = std::move(ids);
    q.sampling.seed += i;  // prompt i draws from seed + i
    prompt_tokens.push_back(static_cast<int64_t>(q.prompt_ids.size()));
    requests.push_back(std::move(q));
  }
  const int64_t n = static_cast<int64_t>(requests.size());
  if (in_flight_.fetch_add(n) + n > options_.max_queue) {
    in_flight_.fetch_sub(n);
    return Error(429,
                 absl::StrCat("the server is busy: ", options_.max_queue,
                              " prompts are in flight (--max_queue)"),
                 "", "", "server_error");
  }
  const std::string id = absl::StrCat("cmpl-", next_id_.fetch_add(1));
  const int64_t created = UnixNow();

  if (c.stream) {
    auto s = std::make_shared<Stream>();
    s->executor = &executor_;
    s->on_close = [this] { --open_; };
    auto remaining = std::make_shared<std::atomic<int64_t>>(n);
    auto completion = std::make_shared<std::atomic<int64_t>>(0);
    const std::string model = c.model;
    const int64_t prompt_sum = [&] {
      int64_t t = 0;
      for (int64_t p : prompt_tokens) t += p;
      return t;
    }();
    const bool usage = c.include_usage;
    std::weak_ptr<Stream> weak = s;
    for (size_t i = 0; i < requests.size(); ++i) {
      requests[i].on_response = [=](const engine::Response& r) {
        const bool last = r.is_final && remaining->fetch_sub(1) == 1;
        if (last) in_flight_.fetch_sub(n);
        std::shared_ptr<Stream> st = weak.lock();
        if (!st) return;  // the client went away
        std::vector<std::string> out;
        if (!r.is_final) {
          if (!r.text.empty())
            out.push_back(CompletionChunkJson(id, created, model, i, r.text,
                                              engine::FinishReason::kNone));
        } else if (!r.status.ok()) {
          ApiError e;
          e.http_status = HttpStatusOf(r.status);
          e.message = std::string(r.status.message());
          e.type = "server_error";
          out.push_back(ApiErrorJson(e));
        } else {
          *completion += static_cast<int64_t>(r.result->token_ids.size());
          out.push_back(CompletionChunkJson(id, created, model, i, r.text,
                                            r.result->finish_reason));
        }
        if (last) {
          if (usage)
            out.push_back(
                UsageChunkJson(id, created, model, prompt_sum, *completion));
          out.push_back("[DONE]");
        }
        std::lock_guard<std::mutex> lock(st->mu);
        for (std::string& o : out) st->queue.push_back(std::move(o));
        st->cv.notify_all();
      };
    }
    auto ids = executor_.EnqueueBatch(std::move(requests));
    if (!ids.ok()) {
      in_flight_.fetch_sub(n);
      return Error(HttpStatusOf(ids.status()),
                   std::string(ids.status().message()));
    }
    s->ids = *ids;
    *stream = s;
    return {200, ""};
  }

  auto ids = executor_.EnqueueBatch(std::move(requests));
  if (!ids.ok()) {
    in_flight_.fetch_sub(n);
    return Error(HttpStatusOf(ids.status()),
                 std::string(ids.status().message()));
  }
  std::vector<CompletionChoice> choices;
  absl::Status failed;
  for (size_t i = 0; i < ids->size(); ++i) {
    auto r = executor_.Wait((*ids)[i]);
    if (!r.ok()) {
      if (failed.ok()) failed = r.status();
      continue;
    }
    CompletionChoice ch;
    ch.text = r->text;
    ch.finish = r->finish_reason;
    ch.prompt_tokens = prompt_tokens[i];
    ch.completion_tokens = static_cast<int64_t>(r->token_ids.size());
    choices.push_back(std::move(ch));
  }
  in_flight_.fetch_sub(n);
  if (!failed.ok())
    return Error(HttpStatusOf(failed), std::string(failed.message()), "", "",
                 "server_error");
  return {200, CompletionJson(id, created, c.model, choices)};
}

}  // namespace qeff::tools
