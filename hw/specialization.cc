#include "hw/specialization.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ir/status_macros.h"

namespace qeff::hw {

std::vector<Specialization> PrefillDecodeSpecializations(int64_t batch_size,
                                                         int64_t prompt_len,
                                                         int64_t ctx_len) {
  return {{"Prefill",
           {{"batch_size", batch_size},
            {"seq_len", prompt_len},
            {"ctx_len", ctx_len}}},
          {"Decode",
           {{"batch_size", batch_size}, {"seq_len", 1}, {"ctx_len", ctx_len}}}};
}

std::string SpecializationsToJson(const std::vector<Specialization>& specs) {
  std::string out = "{\"specializations\":[";
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i) out += ",";
    absl::StrAppend(&out, "{\"name\":\"", specs[i].name, "\",\"symbols\":{");
    std::vector<std::pair<std::string, int64_t>> sorted(
        specs[i].symbols.begin(), specs[i].symbols.end());
    std::sort(sorted.begin(), sorted.end());
    for (size_t j = 0; j < sorted.size(); ++j) {
      if (j) out += ",";
      absl::StrAppend(&out, "\"", sorted[j].first, "\":\"", sorted[j].second,
                      "\"");
    }
    out += "}}";
  }
  out += "]}\n";
  return out;
}

namespace {

// A minimal JSON reader for exactly this document's shape: objects, arrays,
// strings (no escapes beyond \" and \\) and numbers.
class SpecJsonParser {
 public:
  SpecJsonParser(absl::string_view s, absl::string_view source)
      : s_(s), source_(source) {}

  absl::StatusOr<std::vector<Specialization>> Parse() {
    std::vector<Specialization> out;
    QEFF_RETURN_IF_ERROR(Expect('{'));
    QEFF_ASSIGN_OR_RETURN(std::string key, String());
    if (key != "specializations")
      return Error("expected key \"specializations\"");
    QEFF_RETURN_IF_ERROR(Expect(':'));
    QEFF_RETURN_IF_ERROR(Expect('['));
    if (!Peek(']')) {
      do {
        QEFF_ASSIGN_OR_RETURN(Specialization s, One(out.size()));
        out.push_back(std::move(s));
      } while (Accept(','));
    }
    QEFF_RETURN_IF_ERROR(Expect(']'));
    QEFF_RETURN_IF_ERROR(Expect('}'));
    Skip();
    if (pos_ != s_.size()) return Error("trailing text");
    if (out.empty()) return Error("no specializations");
    return out;
  }

 private:
  absl::StatusOr<Specialization> One(size_t index) {
    Specialization spec;
    QEFF_RETURN_IF_ERROR(Expect('{'));
    bool has_symbols = false;
    do {
      QEFF_ASSIGN_OR_RETURN(std::string key, String());
      QEFF_RETURN_IF_ERROR(Expect(':'));
      if (key == "name") {
        QEFF_ASSIGN_OR_RETURN(spec.name, String());
      } else if (key == "symbols") {
        has_symbols = true;
        QEFF_RETURN_IF_ERROR(Expect('{'));
        if (!Peek('}')) {
          do {
            QEFF_ASSIGN_OR_RETURN(std::string sym, String());
            QEFF_RETURN_IF_ERROR(Expect(':'));
            QEFF_ASSIGN_OR_RETURN(std::string val, Scalar());
            int64_t v;
            if (!absl::SimpleAtoi(val, &v) || v <= 0)
              return Error(absl::StrCat(
                  "specialization ", index, ": symbol '", sym,
                  "' must be a positive integer, got '", val, "'"));
            spec.symbols[sym] = v;
          } while (Accept(','));
        }
        QEFF_RETURN_IF_ERROR(Expect('}'));
      } else {
        return Error(absl::StrCat("specialization ", index, ": unknown field '",
                                  key, "'"));
      }
    } while (Accept(','));
    QEFF_RETURN_IF_ERROR(Expect('}'));
    if (spec.name.empty())
      return Error(
          absl::StrCat("specialization ", index, ": missing \"name\""));
    if (!has_symbols)
      return Error(
          absl::StrCat("specialization ", index, ": missing \"symbols\""));
    return spec;
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": ", what, " (at byte ", pos_, ")"));
  }
  void Skip() {
    while (pos_ < s_.size() &&
           std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool Peek(char c) {
    Skip();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  bool Accept(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  absl::Status Expect(char c) {
    if (!Accept(c))
      return Error(absl::StrCat("expected '", std::string(1, c), "'"));
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> String() {
    if (!Accept('"')) return Error("expected a string");
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) return Error("unterminated string");
    ++pos_;
    return out;
  }
  // A string or a bare number, as text.
  absl::StatusOr<std::string> Scalar() {
    if (Peek('"')) return String();
    size_t start = pos_;
    while (
        pos_ < s_.size() &&
        (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-'))
      ++pos_;
    if (start == pos_) return Error("expected a number or a string");
    return std::string(s_.substr(start, pos_ - start));
  }

  absl::string_view s_;
  absl::string_view source_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<Specialization>> ParseSpecializationsJson(
    absl::string_view json, absl::string_view source) {
  return SpecJsonParser(json, source).Parse();
}

}  // namespace qeff::hw
