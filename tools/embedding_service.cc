#include "tools/embedding_service.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "base/json.h"
#include "base/status_macros.h"

namespace qeff::tools {
namespace {

using base::JsonValue;

CompletionService::Reply Error(int status, const std::string& message,
                               const std::string& param = "",
                               const std::string& code = "") {
  ApiError e;
  e.http_status = status;
  e.message = message;
  e.param = param;
  e.code = code;
  return {status, ApiErrorJson(e)};
}

// A JSON array of integers, or false.
bool Ids(const JsonValue& v, std::vector<int64_t>* out) {
  if (!v.is_array() || v.array().empty()) return false;
  out->clear();
  for (const JsonValue& x : v.array()) {
    auto i = x.is_number() ? x.AsInt64() : absl::StatusOr<int64_t>(0);
    if (!x.is_number() || !i.ok()) return false;
    out->push_back(*i);
  }
  return true;
}

}  // namespace

absl::Status EmbeddingService::Load(const std::vector<ModelSpec>& specs) {
  for (const ModelSpec& s : specs) {
    QEFF_ASSIGN_OR_RETURN(
        std::unique_ptr<engine::QEFFAutoModel> m,
        engine::QEFFAutoModel::FromPretrained(s.path, {}, options_.pooling));
    engine::CompileParams cp;
    cp.seq_len = options_.seq_lens;
    cp.batch_size = options_.batch_size;
    cp.device = options_.device;
    cp.num_cores = options_.num_cores;
    absl::Status st = m->Compile(cp).status();
    if (!st.ok())
      return absl::Status(st.code(), absl::StrCat("embedding model '", s.name,
                                                  "': ", st.message()));
    served_.push_back({s.name, std::move(m), std::make_unique<std::mutex>()});
  }
  return absl::OkStatus();
}

std::vector<std::string> EmbeddingService::model_ids() const {
  std::vector<std::string> ids;
  for (const Served& s : served_) ids.push_back(s.name);
  return ids;
}

CompletionService::Reply EmbeddingService::Embed(const std::string& body) {
  auto j = base::ParseJson(body);
  if (!j.ok() || !j->is_object())
    return Error(400, "the request body is not a JSON object");
  for (const auto& [k, v] : j->object()) {
    if (k != "model" && k != "input" && k != "encoding_format" &&
        k != "dimensions" && k != "user")
      return Error(
          400, absl::StrCat("Unrecognized request argument supplied: ", k), k);
  }
  const JsonValue* model = j->Find("model");
  if (!model || !model->is_string())
    return Error(400, "'model' is required (a string)", "model");
  Served* served = nullptr;
  for (Served& s : served_)
    if (s.name == model->string_value()) served = &s;
  if (!served)
    return Error(404,
                 absl::StrCat("The model '", model->string_value(),
                              "' does not exist (or is not an embedding "
                              "model)"),
                 "model", "model_not_found");
  if (const JsonValue* f = j->Find("encoding_format");
      f && !f->is_null() && !(f->is_string() && f->string_value() == "float"))
    return Error(400, "encoding_format: only \"float\" is supported",
                 "encoding_format");
  if (const JsonValue* d = j->Find("dimensions"); d && !d->is_null()) {
    auto n = d->is_number() ? d->AsInt64() : absl::StatusOr<int64_t>(-1);
    if (!n.ok() || *n != served->model->hidden_size())
      return Error(400,
                   absl::StrCat("dimensions: this model gives ",
                                served->model->hidden_size()),
                   "dimensions");
  }
  const JsonValue* input = j->Find("input");
  std::vector<std::string> texts;
  std::vector<std::vector<int64_t>> ids;
  std::vector<int64_t> one;
  if (!input) return Error(400, "'input' is required", "input");
  if (input->is_string()) {
    texts.push_back(input->string_value());
  } else if (Ids(*input, &one)) {
    ids.push_back(one);
  } else if (input->is_array() && !input->array().empty()) {
    for (const JsonValue& e : input->array()) {
      if (e.is_string() && ids.empty()) {
        texts.push_back(e.string_value());
      } else if (Ids(e, &one) && texts.empty()) {
        ids.push_back(one);
      } else {
        return Error(400,
                     "input: a string, an array of strings, an array of "
                     "token ids or an array of token-id arrays",
                     "input");
      }
    }
  } else {
    return Error(400, "input: must not be empty", "input");
  }
  if (texts.size() + ids.size() > 2048)
    return Error(400, "input: at most 2048 entries", "input");
  engine::EmbedOptions eo;
  eo.truncate = options_.truncate;
  absl::StatusOr<engine::EmbeddingResult> r;
  {
    std::lock_guard<std::mutex> lock(*served->mu);
    r = texts.empty() ? served->model->EmbedIds(ids, eo)
                      : served->model->Embed(texts, eo);
  }
  if (!r.ok()) {
    const bool user = r.status().code() == absl::StatusCode::kInvalidArgument ||
                      r.status().code() == absl::StatusCode::kOutOfRange;
    return Error(user ? 400 : 500, std::string(r.status().message()),
                 user ? "input" : "");
  }
  JsonValue data = JsonValue::Array();
  int64_t tokens = 0;
  for (size_t i = 0; i < r->outputs.size(); ++i) {
    JsonValue vec = JsonValue::Array();
    for (float x : r->outputs[i].embedding) vec.Append(JsonValue::Double(x));
    JsonValue o = JsonValue::Object();
    o.Set("object", JsonValue::String("embedding"));
    o.Set("index", JsonValue::Int(static_cast<int64_t>(i)));
    o.Set("embedding", std::move(vec));
    data.Append(std::move(o));
    tokens += static_cast<int64_t>(r->outputs[i].prompt_ids.size());
  }
  JsonValue usage = JsonValue::Object();
  usage.Set("prompt_tokens", JsonValue::Int(tokens));
  usage.Set("total_tokens", JsonValue::Int(tokens));
  JsonValue out = JsonValue::Object();
  out.Set("object", JsonValue::String("list"));
  out.Set("data", std::move(data));
  out.Set("model", JsonValue::String(served->name));
  out.Set("usage", std::move(usage));
  return {200, base::WriteJson(out)};
}

}  // namespace qeff::tools
