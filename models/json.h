// A small, strict JSON (RFC 8259) reader for checkpoint metadata: safetensors
// headers, config.json, tokenizer files. Parses the whole text into a tree;
// objects keep their keys in file order (duplicate keys are an error).
// Numbers keep their source text, so 64-bit integers (tensor offsets) are
// read exactly. Nesting deeper than 256 levels is rejected (no recursion
// blow-up on hostile input). Errors give the byte offset and what was
// expected; callers prefix the file name. It does not write JSON (see
// JsonQuote for the one helper writers need).
#ifndef QEFF_MODELS_JSON_H_
#define QEFF_MODELS_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::models {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;
  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // Accessors; each requires the matching kind (QEFF_CHECK).
  bool bool_value() const;
  double number() const;
  const std::string& string_value() const;
  const std::vector<JsonValue>& array() const;
  const std::vector<std::pair<std::string, JsonValue>>& object() const;

  // For numbers: the value as an exact int64, if it is one (no fraction or
  // exponent, in range).
  absl::StatusOr<int64_t> AsInt64() const;
  // Object member or null when absent / not an object.
  const JsonValue* Find(absl::string_view key) const;
  // "object", "number", ... for error messages.
  static absl::string_view KindName(Kind k);

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string text_;  // string value, or a number's source text
  std::vector<JsonValue> array_;
  std::vector<std::pair<std::string, JsonValue>> object_;
};

absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// `s` as a JSON string literal (with quotes and escapes).
std::string JsonQuote(absl::string_view s);

}  // namespace qeff::models

#endif  // QEFF_MODELS_JSON_H_
