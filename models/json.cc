#include "models/json.h"

#include <cmath>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ir/status_macros.h"
#include "models/utf8.h"

namespace qeff::models {

bool JsonValue::bool_value() const {
  QEFF_CHECK(kind_ == Kind::kBool);
  return bool_;
}
double JsonValue::number() const {
  QEFF_CHECK(kind_ == Kind::kNumber);
  return number_;
}
const std::string& JsonValue::string_value() const {
  QEFF_CHECK(kind_ == Kind::kString);
  return text_;
}
const std::vector<JsonValue>& JsonValue::array() const {
  QEFF_CHECK(kind_ == Kind::kArray);
  return array_;
}
const std::vector<std::pair<std::string, JsonValue>>& JsonValue::object()
    const {
  QEFF_CHECK(kind_ == Kind::kObject);
  return object_;
}

absl::StatusOr<int64_t> JsonValue::AsInt64() const {
  if (kind_ != Kind::kNumber) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an integer, got ", KindName(kind_)));
  }
  int64_t v;
  if (text_.find_first_of(".eE") != std::string::npos ||
      !absl::SimpleAtoi(text_, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a 64-bit integer, got ", text_));
  }
  return v;
}

const JsonValue* JsonValue::Find(absl::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (const auto& [k, v] : object_)
    if (k == key) return &v;
  return nullptr;
}

absl::string_view JsonValue::KindName(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "?";
}

class JsonParser {
 public:
  explicit JsonParser(absl::string_view s) : s_(s) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    JsonValue v;
    QEFF_RETURN_IF_ERROR(ParseValue(&v, 0));
    SkipSpace();
    if (pos_ != s_.size()) return Error("trailing characters after the value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 256;

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON error at byte ", pos_, ": ", what));
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool Consume(absl::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  absl::Status ParseValue(JsonValue* v, int depth) {
    if (depth > kMaxDepth) return Error("nesting deeper than 256 levels");
    SkipSpace();
    if (pos_ >= s_.size()) return Error("unexpected end of text");
    char c = s_[pos_];
    if (c == '{') return ParseObject(v, depth);
    if (c == '[') return ParseArray(v, depth);
    if (c == '"') {
      v->kind_ = JsonValue::Kind::kString;
      return ParseString(&v->text_);
    }
    if (Consume("true")) {
      v->kind_ = JsonValue::Kind::kBool;
      v->bool_ = true;
      return absl::OkStatus();
    }
    if (Consume("false")) {
      v->kind_ = JsonValue::Kind::kBool;
      return absl::OkStatus();
    }
    if (Consume("null")) return absl::OkStatus();
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(v);
    return Error(absl::StrFormat("unexpected character '%c'", c));
  }

  absl::Status ParseNumber(JsonValue* v) {
    const size_t start = pos_;
    auto digits = [&]() {
      size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - b;
    };
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      return Error("bad number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return Error("bad number: no digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return Error("bad number: no exponent digits");
    }
    v->kind_ = JsonValue::Kind::kNumber;
    v->text_ = std::string(s_.substr(start, pos_ - start));
    v->number_ = std::strtod(v->text_.c_str(), nullptr);
    return absl::OkStatus();
  }

  absl::Status Hex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      r <<= 4;
      if (c >= '0' && c <= '9')
        r |= c - '0';
      else if (c >= 'a' && c <= 'f')
        r |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        r |= c - 'A' + 10;
      else
        return Error("bad hex digit in \\u escape");
    }
    *out = r;
    return absl::OkStatus();
  }

  absl::Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    out->clear();
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return absl::OkStatus();
      if (static_cast<unsigned char>(c) < 0x20)
        return Error("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return Error("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          QEFF_RETURN_IF_ERROR(Hex4(&cp));
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t lo;
            if (!Consume("\\u")) return Error("unpaired high surrogate");
            QEFF_RETURN_IF_ERROR(Hex4(&lo));
            if (lo < 0xDC00 || lo >= 0xE000) return Error("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("unpaired low surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error(absl::StrFormat("bad escape '\\%c'", e));
      }
    }
  }

  absl::Status ParseArray(JsonValue* v, int depth) {
    ++pos_;
    v->kind_ = JsonValue::Kind::kArray;
    SkipSpace();
    if (Consume("]")) return absl::OkStatus();
    while (true) {
      v->array_.emplace_back();
      QEFF_RETURN_IF_ERROR(ParseValue(&v->array_.back(), depth + 1));
      SkipSpace();
      if (Consume("]")) return absl::OkStatus();
      if (!Consume(",")) return Error("expected ',' or ']' in array");
    }
  }

  absl::Status ParseObject(JsonValue* v, int depth) {
    ++pos_;
    v->kind_ = JsonValue::Kind::kObject;
    SkipSpace();
    if (Consume("}")) return absl::OkStatus();
    absl::flat_hash_set<std::string> keys;
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"')
        return Error("expected a string key in object");
      std::string key;
      QEFF_RETURN_IF_ERROR(ParseString(&key));
      if (!keys.insert(key).second)
        return Error(absl::StrCat("duplicate key \"", key, "\""));
      SkipSpace();
      if (!Consume(":")) return Error("expected ':' after object key");
      JsonValue member;
      QEFF_RETURN_IF_ERROR(ParseValue(&member, depth + 1));
      v->object_.emplace_back(std::move(key), std::move(member));
      SkipSpace();
      if (Consume("}")) return absl::OkStatus();
      if (!Consume(",")) return Error("expected ',' or '}' in object");
    }
  }

  absl::string_view s_;
  size_t pos_ = 0;
};

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) {
  return JsonParser(text).ParseDocument();
}

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += absl::StrFormat("\\u%04x", c);
        else
          out.push_back(c);
    }
  }
  out += "\"";
  return out;
}

}  // namespace qeff::models
