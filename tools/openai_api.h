// OpenAI's completions API shape for //tools:serve: the request body parsed
// and checked into executor requests, and the JSON of responses, streamed
// chunks, model lists and errors. No HTTP here (tools/serve.cc owns it).
//
// Accepted in POST /v1/completions: model (required), prompt (a string, an
// array of token ids, an array of strings or an array of token-id arrays:
// one choice per prompt), max_tokens (default 16), temperature (default 1,
// as OpenAI's; 0 is greedy), top_p, seed, stop (a string or up to 4),
// stream, stream_options.include_usage, presence_penalty, and the
// extensions top_k, min_p, repetition_penalty. Accepted only at their
// no-op values: n (1), best_of (1), echo (false), logprobs (null),
// suffix (null), frequency_penalty (0), logit_bias (empty); `user` is
// ignored. Any other field is an error naming it, as OpenAI's
// "Unrecognized request argument supplied".
#ifndef QEFF_TOOLS_OPENAI_API_H_
#define QEFF_TOOLS_OPENAI_API_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/json.h"
#include "engine/executor.h"

namespace qeff::tools {

// An error as OpenAI returns it: HTTP status and
// {"error": {"message", "type", "param", "code"}}.
struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the field at fault ("" when none)
  std::string code;   // e.g. "model_not_found" ("" when none)
};
std::string ApiErrorJson(const ApiError& e);

struct CompletionRequest {
  std::string model;
  // One entry per prompt: text, or token ids.
  std::vector<std::variant<std::string, std::vector<int64_t>>> prompts;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // Everything the executor needs except the model and prompt.
  engine::Request request;
};

// Parses `body`; an error names the field (param) and the reason.
std::variant<CompletionRequest, ApiError> ParseCompletionRequest(
    absl::string_view body);

// OpenAI's finish_reason: "stop" (EOS or a stop string), "length"
// (max_tokens or the context), or null while running.
const char* OpenAiFinishReason(engine::FinishReason r);

struct CompletionChoice {
  std::string text;
  engine::FinishReason finish = engine::FinishReason::kNone;
  int64_t prompt_tokens = 0, completion_tokens = 0;
};
// The whole text_completion object.
std::string CompletionJson(const std::string& id, int64_t created,
                           const std::string& model,
                           const std::vector<CompletionChoice>& choices);
// One streamed chunk (text delta of choice `index`; finish set on its last
// chunk) and the final usage-only chunk.
std::string CompletionChunkJson(const std::string& id, int64_t created,
                                const std::string& model, int64_t index,
                                const std::string& text,
                                engine::FinishReason finish);
std::string UsageChunkJson(const std::string& id, int64_t created,
                           const std::string& model, int64_t prompt_tokens,
                           int64_t completion_tokens);
// GET /v1/models.
std::string ModelListJson(const std::vector<std::string>& ids, int64_t created);

}  // namespace qeff::tools

#endif  // QEFF_TOOLS_OPENAI_API_H_
