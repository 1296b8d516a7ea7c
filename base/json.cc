#include "base/json.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/utf8.h"

namespace qeff::base {

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
      const unsigned char b = static_cast<unsigned char>(c);
      if (b < 0x20) return Error("control character in string");
      if (b >= 0x80) {  // JSON text is UTF-8 (RFC 8259 section 8.1)
        size_t len = (b & 0xE0) == 0xC0 && b >= 0xC2   ? 2
                     : (b & 0xF0) == 0xE0              ? 3
                     : (b & 0xF8) == 0xF0 && b <= 0xF4 ? 4
                                                       : 0;
        for (size_t k = 1; k < len; ++k) {
          if (pos_ - 1 + k >= s_.size() ||
              (static_cast<unsigned char>(s_[pos_ - 1 + k]) & 0xC0) != 0x80)
            len = 0;
        }
        if (len == 0) {
          --pos_;
          return Error(
              absl::StrFormat("invalid UTF-8 byte 0x%02x in string", b));
        }
        out->append(s_.data() + pos_ - 1, len);
        pos_ += len - 1;
        continue;
      }
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

namespace {

// Decodes one UTF-8 sequence at `s[*i]`; an invalid byte decodes as itself
// (U+0080..U+00FF), so every input has an output.
char32_t NextCodePoint(absl::string_view s, size_t* i) {
  const unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80         ? 1
            : (c >> 5) == 6  ? 2
            : (c >> 4) == 14 ? 3
            : (c >> 3) == 30 ? 4
                             : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return c;
  }
  char32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++*i;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *i += len;
  return cp;
}

std::string ShortestDouble(double v) {
  std::string out;
  for (int prec = 1; prec <= 17; ++prec) {
    out = absl::StrFormat("%.*g", prec, v);
    if (std::strtod(out.c_str(), nullptr) == v) break;
  }
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

void Write(const JsonValue& v, const JsonWriteOptions& o, int depth,
           std::string* out) {
  auto newline = [&](int d) {
    if (o.indent < 0) return;
    out->push_back('\n');
    out->append(static_cast<size_t>(o.indent) * d, ' ');
  };
  switch (v.kind()) {
    case JsonValue::Kind::kNull:
      *out += "null";
      return;
    case JsonValue::Kind::kBool:
      *out += v.bool_value() ? "true" : "false";
      return;
    case JsonValue::Kind::kNumber:
      *out += v.number_text();
      return;
    case JsonValue::Kind::kString:
      *out += JsonQuote(v.string_value(), o.ascii);
      return;
    case JsonValue::Kind::kArray: {
      if (v.array().empty()) {
        *out += "[]";
        return;
      }
      out->push_back('[');
      bool first = true;
      for (const JsonValue& e : v.array()) {
        if (!first) out->push_back(',');
        first = false;
        newline(depth + 1);
        Write(e, o, depth + 1, out);
      }
      newline(depth);
      out->push_back(']');
      return;
    }
    case JsonValue::Kind::kObject: {
      if (v.object().empty()) {
        *out += "{}";
        return;
      }
      std::vector<const std::pair<std::string, JsonValue>*> members;
      for (const auto& m : v.object()) members.push_back(&m);
      if (o.sort_keys)
        std::stable_sort(
            members.begin(), members.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
      out->push_back('{');
      bool first = true;
      for (const auto* m : members) {
        if (!first) out->push_back(',');
        first = false;
        newline(depth + 1);
        *out += JsonQuote(m->first, o.ascii);
        *out += o.indent < 0 ? ":" : ": ";
        Write(m->second, o, depth + 1, out);
      }
      newline(depth);
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::Int(int64_t i) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.number_ = static_cast<double>(i);
  v.text_ = absl::StrCat(i);
  return v;
}

JsonValue JsonValue::Double(double d) {
  QEFF_CHECK(std::isfinite(d));
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.number_ = d;
  v.text_ = ShortestDouble(d);
  return v;
}

JsonValue JsonValue::String(std::string s) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::Array() {
  JsonValue v;
  v.kind_ = Kind::kArray;
  return v;
}

JsonValue JsonValue::Object() {
  JsonValue v;
  v.kind_ = Kind::kObject;
  return v;
}

JsonValue& JsonValue::Set(absl::string_view key, JsonValue v) {
  QEFF_CHECK(kind_ == Kind::kObject);
  for (auto& [k, old] : object_) {
    if (k == key) {
      old = std::move(v);
      return *this;
    }
  }
  object_.emplace_back(std::string(key), std::move(v));
  return *this;
}

JsonValue& JsonValue::Append(JsonValue v) {
  QEFF_CHECK(kind_ == Kind::kArray);
  array_.push_back(std::move(v));
  return *this;
}

const std::string& JsonValue::number_text() const {
  QEFF_CHECK(kind_ == Kind::kNumber);
  return text_;
}

std::string WriteJson(const JsonValue& v, const JsonWriteOptions& options) {
  std::string out;
  Write(v, options, 0, &out);
  return out;
}

std::string JsonQuote(absl::string_view s, bool ascii) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else if (ascii && static_cast<unsigned char>(c) >= 0x80) {
          char32_t cp = NextCodePoint(s, &i);
          if (cp >= 0x10000) {
            cp -= 0x10000;
            out += absl::StrFormat("\\u%04x\\u%04x", 0xD800 + (cp >> 10),
                                   0xDC00 + (cp & 0x3FF));
          } else {
            out += absl::StrFormat("\\u%04x", static_cast<uint32_t>(cp));
          }
          continue;
        } else {
          out.push_back(c);
        }
    }
    ++i;
  }
  out += "\"";
  return out;
}

}  // namespace qeff::base
