#include "models/hf_config.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

absl::Status FieldError(const std::string& source, absl::string_view field,
                        absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": field '", field, "' ", what));
}

absl::StatusOr<std::optional<int64_t>> OptInt(const base::JsonValue& j,
                                              absl::string_view f,
                                              const std::string& source) {
  const base::JsonValue* v = j.Find(f);
  if (!v || v->is_null()) return std::optional<int64_t>();
  auto i = v->AsInt64();
  if (!i.ok()) return FieldError(source, f, i.status().message());
  return std::optional<int64_t>(*i);
}

absl::StatusOr<std::optional<float>> OptFloat(const base::JsonValue& j,
                                              absl::string_view f,
                                              const std::string& source) {
  const base::JsonValue* v = j.Find(f);
  if (!v || v->is_null()) return std::optional<float>();
  if (!v->is_number()) return FieldError(source, f, "is not a number");
  return std::optional<float>(static_cast<float>(v->number()));
}

absl::StatusOr<std::optional<bool>> OptBool(const base::JsonValue& j,
                                            absl::string_view f,
                                            const std::string& source) {
  const base::JsonValue* v = j.Find(f);
  if (!v || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return FieldError(source, f, "is not a boolean");
  return std::optional<bool>(v->bool_value());
}

// A token given as a string or as an AddedToken object {"content": ...}.
absl::StatusOr<std::string> TokenText(const base::JsonValue& j,
                                      absl::string_view f,
                                      const std::string& source) {
  const base::JsonValue* v = j.Find(f);
  if (!v || v->is_null()) return std::string();
  if (v->is_string()) return v->string_value();
  if (v->is_object()) {
    const base::JsonValue* c = v->Find("content");
    if (c && c->is_string()) return c->string_value();
  }
  return FieldError(source, f,
                    "is neither a string nor an object with 'content'");
}

}  // namespace

absl::StatusOr<base::JsonValue> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = base::ParseJson(ss.str());
  if (!j.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", j.status().message()));
  }
  return j;
}

absl::StatusOr<GenerationConfig> ParseGenerationConfig(
    const base::JsonValue& j, const std::string& source) {
  if (!j.is_object())
    return absl::InvalidArgumentError(absl::StrCat(source, ": not an object"));
  GenerationConfig g;
  QEFF_ASSIGN_OR_RETURN(g.bos_token_id, OptInt(j, "bos_token_id", source));
  QEFF_ASSIGN_OR_RETURN(g.pad_token_id, OptInt(j, "pad_token_id", source));
  if (const base::JsonValue* e = j.Find("eos_token_id"); e && !e->is_null()) {
    if (e->is_array()) {
      for (const base::JsonValue& x : e->array()) {
        auto i = x.AsInt64();
        if (!i.ok())
          return FieldError(source, "eos_token_id", i.status().message());
        g.eos_token_ids.push_back(*i);
      }
    } else {
      auto i = e->AsInt64();
      if (!i.ok())
        return FieldError(source, "eos_token_id", i.status().message());
      g.eos_token_ids.push_back(*i);
    }
  }
  QEFF_ASSIGN_OR_RETURN(std::optional<bool> sample,
                        OptBool(j, "do_sample", source));
  g.do_sample = sample.value_or(false);
  QEFF_ASSIGN_OR_RETURN(g.temperature, OptFloat(j, "temperature", source));
  QEFF_ASSIGN_OR_RETURN(g.top_k, OptInt(j, "top_k", source));
  QEFF_ASSIGN_OR_RETURN(g.top_p, OptFloat(j, "top_p", source));
  QEFF_ASSIGN_OR_RETURN(g.max_new_tokens, OptInt(j, "max_new_tokens", source));
  QEFF_ASSIGN_OR_RETURN(g.max_length, OptInt(j, "max_length", source));
  return g;
}

absl::StatusOr<TokenizerConfig> ParseTokenizerConfig(
    const base::JsonValue& j, const std::string& source) {
  if (!j.is_object())
    return absl::InvalidArgumentError(absl::StrCat(source, ": not an object"));
  TokenizerConfig t;
  QEFF_ASSIGN_OR_RETURN(t.add_bos_token, OptBool(j, "add_bos_token", source));
  QEFF_ASSIGN_OR_RETURN(t.add_eos_token, OptBool(j, "add_eos_token", source));
  QEFF_ASSIGN_OR_RETURN(t.bos_token, TokenText(j, "bos_token", source));
  QEFF_ASSIGN_OR_RETURN(t.eos_token, TokenText(j, "eos_token", source));
  QEFF_ASSIGN_OR_RETURN(t.unk_token, TokenText(j, "unk_token", source));
  QEFF_ASSIGN_OR_RETURN(t.pad_token, TokenText(j, "pad_token", source));
  if (const base::JsonValue* c = j.Find("tokenizer_class"); c && c->is_string())
    t.tokenizer_class = c->string_value();
  if (const base::JsonValue* c = j.Find("chat_template"); c && c->is_string())
    t.chat_template = c->string_value();
  // model_max_length is often 1e30 (a float): keep it only when integral.
  if (const base::JsonValue* v = j.Find("model_max_length");
      v && v->is_number()) {
    auto i = v->AsInt64();
    if (i.ok()) t.model_max_length = *i;
  }
  return t;
}

absl::StatusOr<HfFolderConfigs> ReadHfFolderConfigs(const std::string& dir) {
  HfFolderConfigs out;
  const std::string config_path = dir + "/config.json";
  QEFF_ASSIGN_OR_RETURN(base::JsonValue config, ReadJsonFile(config_path));
  QEFF_ASSIGN_OR_RETURN(out.model, ParseHfModelConfig(config, config_path));
  const std::string gen_path = dir + "/generation_config.json";
  if (base::FileExists(gen_path)) {
    QEFF_ASSIGN_OR_RETURN(base::JsonValue g, ReadJsonFile(gen_path));
    QEFF_ASSIGN_OR_RETURN(out.generation, ParseGenerationConfig(g, gen_path));
  }
  const std::string tok_path = dir + "/tokenizer_config.json";
  if (base::FileExists(tok_path)) {
    QEFF_ASSIGN_OR_RETURN(base::JsonValue t, ReadJsonFile(tok_path));
    QEFF_ASSIGN_OR_RETURN(out.tokenizer, ParseTokenizerConfig(t, tok_path));
  }
  return out;
}

}  // namespace qeff::models
