#include "tools/openai_api.h"

#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"

namespace qeff::tools {
namespace {

using base::JsonValue;

ApiError Bad(std::string param, std::string message) {
  ApiError e;
  e.param = std::move(param);
  e.message = std::move(message);
  return e;
}

// A JSON number that is an integer (no fraction), or an error naming `name`.
std::variant<int64_t, ApiError> IntField(const std::string& name,
                                         const JsonValue& v) {
  if (!v.is_number() || !v.AsInt64().ok())
    return Bad(name, absl::StrCat("'", name, "' must be an integer"));
  return *v.AsInt64();
}

std::variant<double, ApiError> NumberField(const std::string& name,
                                           const JsonValue& v, double lo,
                                           double hi, bool lo_open = false) {
  if (!v.is_number() || !std::isfinite(v.number()))
    return Bad(name, absl::StrCat("'", name, "' must be a number"));
  const double x = v.number();
  if (x < lo || x > hi || (lo_open && x == lo))
    return Bad(name,
               absl::StrCat("'", name, "' must be in ", lo_open ? "(" : "[", lo,
                            ", ", hi, "], got ", v.number_text()));
  return x;
}

std::variant<std::vector<int64_t>, ApiError> TokenIds(const JsonValue& a) {
  std::vector<int64_t> ids;
  for (const JsonValue& v : a.array()) {
    if (!v.is_number() || !v.AsInt64().ok() || *v.AsInt64() < 0)
      return Bad("prompt",
                 "token ids in 'prompt' must be non-negative integers");
    ids.push_back(*v.AsInt64());
  }
  if (ids.empty()) return Bad("prompt", "'prompt' has an empty token array");
  return ids;
}

}  // namespace

std::string ApiErrorJson(const ApiError& e) {
  JsonValue err = JsonValue::Object();
  err.Set("message", JsonValue::String(e.message));
  err.Set("type", JsonValue::String(e.type));
  err.Set("param",
          e.param.empty() ? JsonValue::Null() : JsonValue::String(e.param));
  err.Set("code",
          e.code.empty() ? JsonValue::Null() : JsonValue::String(e.code));
  return base::WriteJson(JsonValue::Object().Set("error", std::move(err)));
}

std::variant<CompletionRequest, ApiError> ParseCompletionRequest(
    absl::string_view body) {
  auto parsed = base::ParseJson(body);
  if (!parsed.ok())
    return Bad("", absl::StrCat("could not parse the JSON body: ",
                                parsed.status().message()));
  if (!parsed->is_object())
    return Bad("", "the request body must be a JSON object");
  CompletionRequest c;
  engine::Request& q = c.request;
  q.generation_len = 16;          // OpenAI's max_tokens default
  q.sampling.temperature = 1.0f;  // OpenAI's default
  bool has_seed = false, has_prompt = false, has_stream_options = false;
  for (const auto& [key, v] : parsed->object()) {
    if (key == "model") {
      if (!v.is_string() || v.string_value().empty())
        return Bad(key, "'model' must be a non-empty string");
      c.model = v.string_value();
    } else if (key == "prompt") {
      has_prompt = true;
      if (v.is_string()) {
        c.prompts.push_back(v.string_value());
      } else if (v.is_array() && !v.array().empty()) {
        const JsonValue& first = v.array()[0];
        if (first.is_number()) {
          auto ids = TokenIds(v);
          if (auto* e = std::get_if<ApiError>(&ids)) return *e;
          c.prompts.push_back(std::get<std::vector<int64_t>>(ids));
        } else {
          for (const JsonValue& p : v.array()) {
            if (p.is_string() && first.is_string()) {
              c.prompts.push_back(p.string_value());
            } else if (p.is_array() && first.is_array()) {
              auto ids = TokenIds(p);
              if (auto* e = std::get_if<ApiError>(&ids)) return *e;
              c.prompts.push_back(std::get<std::vector<int64_t>>(ids));
            } else {
              return Bad(key,
                         "'prompt' must be a string, an array of token ids, "
                         "an array of strings or an array of token-id "
                         "arrays");
            }
          }
        }
      } else {
        return Bad(key,
                   "'prompt' must be a string, an array of token ids, an "
                   "array of strings or an array of token-id arrays "
                   "(not empty)");
      }
    } else if (key == "max_tokens") {
      if (v.is_null()) continue;
      auto n = IntField(key, v);
      if (auto* e = std::get_if<ApiError>(&n)) return *e;
      if (std::get<int64_t>(n) < 1)
        return Bad(key, "'max_tokens' must be at least 1");
      q.generation_len = std::get<int64_t>(n);
    } else if (key == "temperature") {
      if (v.is_null()) continue;
      auto x = NumberField(key, v, 0, 2);
      if (auto* e = std::get_if<ApiError>(&x)) return *e;
      q.sampling.temperature = static_cast<float>(std::get<double>(x));
    } else if (key == "top_p") {
      if (v.is_null()) continue;
      auto x = NumberField(key, v, 0, 1, /*lo_open=*/true);
      if (auto* e = std::get_if<ApiError>(&x)) return *e;
      q.sampling.top_p = static_cast<float>(std::get<double>(x));
    } else if (key == "min_p") {
      auto x = NumberField(key, v, 0, 1);
      if (auto* e = std::get_if<ApiError>(&x)) return *e;
      if (std::get<double>(x) >= 1) return Bad(key, "'min_p' must be below 1");
      q.sampling.min_p = static_cast<float>(std::get<double>(x));
    } else if (key == "top_k") {
      auto n = IntField(key, v);
      if (auto* e = std::get_if<ApiError>(&n)) return *e;
      if (std::get<int64_t>(n) < 0) return Bad(key, "'top_k' must be >= 0");
      q.sampling.top_k = std::get<int64_t>(n);
    } else if (key == "repetition_penalty") {
      auto x = NumberField(key, v, 0, 1e6, /*lo_open=*/true);
      if (auto* e = std::get_if<ApiError>(&x)) return *e;
      q.sampling.repetition_penalty = static_cast<float>(std::get<double>(x));
    } else if (key == "presence_penalty") {
      if (v.is_null()) continue;
      auto x = NumberField(key, v, -2, 2);
      if (auto* e = std::get_if<ApiError>(&x)) return *e;
      q.sampling.presence_penalty = static_cast<float>(std::get<double>(x));
    } else if (key == "seed") {
      if (v.is_null()) continue;
      auto n = IntField(key, v);
      if (auto* e = std::get_if<ApiError>(&n)) return *e;
      q.sampling.seed = static_cast<uint64_t>(std::get<int64_t>(n));
      has_seed = true;
    } else if (key == "stop") {
      if (v.is_null()) continue;
      if (v.is_string()) {
        q.stop_strings = {v.string_value()};
      } else if (v.is_array() && v.array().size() <= 4) {
        for (const JsonValue& s : v.array()) {
          if (!s.is_string())
            return Bad(key, "'stop' must be a string or up to 4 strings");
          q.stop_strings.push_back(s.string_value());
        }
      } else {
        return Bad(key, "'stop' must be a string or up to 4 strings");
      }
      for (const std::string& s : q.stop_strings)
        if (s.empty()) return Bad(key, "'stop' strings must not be empty");
    } else if (key == "stream") {
      if (v.is_null()) continue;
      if (!v.is_bool()) return Bad(key, "'stream' must be a boolean");
      c.stream = v.bool_value();
    } else if (key == "stream_options") {
      if (v.is_null()) continue;
      has_stream_options = true;
      if (!v.is_object()) return Bad(key, "'stream_options' must be an object");
      for (const auto& [k2, v2] : v.object()) {
        if (k2 != "include_usage" || !v2.is_bool())
          return Bad(key, absl::StrCat("'stream_options' takes only "
                                       "include_usage (a boolean), got '",
                                       k2, "'"));
        c.include_usage = v2.bool_value();
      }
    } else if (key == "n" || key == "best_of") {
      if (v.is_null()) continue;
      auto n = IntField(key, v);
      if (auto* e = std::get_if<ApiError>(&n)) return *e;
      if (std::get<int64_t>(n) != 1)
        return Bad(key,
                   absl::StrCat("'", key, "' other than 1 is not supported"));
    } else if (key == "echo") {
      if (!v.is_null() && !(v.is_bool() && !v.bool_value()))
        return Bad(key, "'echo' is not supported");
    } else if (key == "logprobs") {
      if (!v.is_null()) return Bad(key, "'logprobs' is not supported");
    } else if (key == "suffix") {
      if (!v.is_null() && !(v.is_string() && v.string_value().empty()))
        return Bad(key, "'suffix' is not supported");
    } else if (key == "frequency_penalty") {
      if (!v.is_null() && !(v.is_number() && v.number() == 0))
        return Bad(key,
                   "'frequency_penalty' is not supported (presence_penalty "
                   "and repetition_penalty are)");
    } else if (key == "logit_bias") {
      if (!v.is_null() && !(v.is_object() && v.object().empty()))
        return Bad(key, "'logit_bias' is not supported");
    } else if (key == "user") {
      if (!v.is_string()) return Bad(key, "'user' must be a string");
    } else {
      return Bad(key,
                 absl::StrCat("Unrecognized request argument supplied: ", key));
    }
  }
  if (c.model.empty()) return Bad("model", "'model' is required");
  if (!has_prompt) return Bad("prompt", "'prompt' is required");
  if (has_stream_options && !c.stream)
    return Bad("stream_options",
               "'stream_options' is only allowed when 'stream' is true");
  if (!has_seed) {
    std::random_device rd;
    q.sampling.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  absl::Status sv = engine::ValidateSamplingParams(q.sampling);
  if (!sv.ok()) return Bad("", std::string(sv.message()));
  return c;
}

const char* OpenAiFinishReason(engine::FinishReason r) {
  switch (r) {
    case engine::FinishReason::kEos:
    case engine::FinishReason::kStopString:
      return "stop";
    case engine::FinishReason::kLength:
    case engine::FinishReason::kContextLength:
      return "length";
    default:
      return nullptr;
  }
}

namespace {

JsonValue FinishJson(engine::FinishReason r) {
  const char* f = OpenAiFinishReason(r);
  return f ? JsonValue::String(f) : JsonValue::Null();
}

JsonValue Usage(int64_t prompt, int64_t completion) {
  return JsonValue::Object()
      .Set("prompt_tokens", JsonValue::Int(prompt))
      .Set("completion_tokens", JsonValue::Int(completion))
      .Set("total_tokens", JsonValue::Int(prompt + completion));
}

JsonValue Head(const std::string& id, int64_t created,
               const std::string& model) {
  return JsonValue::Object()
      .Set("id", JsonValue::String(id))
      .Set("object", JsonValue::String("text_completion"))
      .Set("created", JsonValue::Int(created))
      .Set("model", JsonValue::String(model));
}

}  // namespace

std::string CompletionJson(const std::string& id, int64_t created,
                           const std::string& model,
                           const std::vector<CompletionChoice>& choices) {
  JsonValue list = JsonValue::Array();
  int64_t prompt = 0, completion = 0;
  for (size_t i = 0; i < choices.size(); ++i) {
    const CompletionChoice& c = choices[i];
    list.Append(JsonValue::Object()
                    .Set("text", JsonValue::String(c.text))
                    .Set("index", JsonValue::Int(static_cast<int64_t>(i)))
                    .Set("logprobs", JsonValue::Null())
                    .Set("finish_reason", FinishJson(c.finish)));
    prompt += c.prompt_tokens;
    completion += c.completion_tokens;
  }
  return base::WriteJson(Head(id, created, model)
                             .Set("choices", std::move(list))
                             .Set("usage", Usage(prompt, completion)));
}

std::string CompletionChunkJson(const std::string& id, int64_t created,
                                const std::string& model, int64_t index,
                                const std::string& text,
                                engine::FinishReason finish) {
  JsonValue list = JsonValue::Array();
  list.Append(JsonValue::Object()
                  .Set("text", JsonValue::String(text))
                  .Set("index", JsonValue::Int(index))
                  .Set("logprobs", JsonValue::Null())
                  .Set("finish_reason", FinishJson(finish)));
  return base::WriteJson(
      Head(id, created, model).Set("choices", std::move(list)));
}

std::string UsageChunkJson(const std::string& id, int64_t created,
                           const std::string& model, int64_t prompt_tokens,
                           int64_t completion_tokens) {
  return base::WriteJson(
      Head(id, created, model)
          .Set("choices", JsonValue::Array())
          .Set("usage", Usage(prompt_tokens, completion_tokens)));
}

std::string ModelListJson(const std::vector<std::string>& ids,
                          int64_t created) {
  JsonValue data = JsonValue::Array();
  for (const std::string& id : ids)
    data.Append(JsonValue::Object()
                    .Set("id", JsonValue::String(id))
                    .Set("object", JsonValue::String("model"))
                    .Set("created", JsonValue::Int(created))
                    .Set("owned_by", JsonValue::String("qeff")));
  return base::WriteJson(JsonValue::Object()
                             .Set("object", JsonValue::String("list"))
                             .Set("data", std::move(data)));
}

}  // namespace qeff::tools
