// JSON (RFC 8259) for the whole project: one strict reader and one escaping
// writer. The reader parses the whole text into a tree; objects keep their
// keys in file order (duplicate keys are an error). Numbers keep their
// source text, so 64-bit integers (tensor offsets) are read exactly. Nesting
// deeper than 256 levels is rejected (no recursion blow-up on hostile
// input). Errors give the byte offset and what was expected; callers prefix
// the file name. The writer serializes a tree (built with the factories
// below or parsed) compactly — `,` and `:`, optionally sorted keys and
// ASCII-only strings, which is Python's
// `json.dumps(separators=(",", ":"), sort_keys=True, ensure_ascii=True)`,
// QEfficient's hashing form — or indented for files people read.
#ifndef QEFF_BASE_JSON_H_
#define QEFF_BASE_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::base {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;

  // Factories for writers.
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  static JsonValue Int(int64_t v);
  // Finite only (QEFF_CHECK); written as Python's repr writes it
  // (shortest round-trip digits, "1.0" for integral values).
  static JsonValue Double(double v);
  static JsonValue String(std::string s);
  static JsonValue Array();
  static JsonValue Object();
  // Object: sets `key` (replacing an existing member in place). Returns
  // *this for chaining.
  JsonValue& Set(absl::string_view key, JsonValue v);
  // Array: appends.
  JsonValue& Append(JsonValue v);

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
  // A number's source text (exactly as parsed or written).
  const std::string& number_text() const;

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

struct JsonWriteOptions {
  bool sort_keys = false;
  // Non-ASCII characters as \uXXXX (UTF-16, surrogate pairs above U+FFFF).
  bool ascii = false;
  // < 0: compact (`,` `:`); else newlines and this many spaces per level
  // (`,` and `: `).
  int indent = -1;
};

std::string WriteJson(const JsonValue& v, const JsonWriteOptions& options = {});

// `s` as a JSON string literal (with quotes and escapes: \" \\ \b \f \n
// \r \t, other controls as \u00XX, as Python writes them).
std::string JsonQuote(absl::string_view s, bool ascii = false);

}  // namespace qeff::base

#endif  // QEFF_BASE_JSON_H_
