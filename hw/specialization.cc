#include "hw/specialization.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::hw {

std::vector<Specialization> CausalLMSpecializations(int64_t prefill_seq_len,
                                                    int64_t ctx_len,
                                                    int64_t batch_size,
                                                    int64_t full_batch_size) {
  if (full_batch_size <= 0) {
    return {
        {"Prefill",
         {{"batch_size", batch_size},
          {"seq_len", prefill_seq_len},
          {"ctx_len", ctx_len}}},
        {"Decode",
         {{"batch_size", batch_size}, {"seq_len", 1}, {"ctx_len", ctx_len}}}};
  }
  return {{"Prefill",
           {{"batch_size", 1},
            {"seq_len", prefill_seq_len},
            {"ctx_len", ctx_len},
            {"full_batch_size", full_batch_size}}},
          {"Decode",
           {{"batch_size", full_batch_size},
            {"seq_len", 1},
            {"ctx_len", ctx_len},
            {"full_batch_size", full_batch_size}}}};
}

std::vector<Specialization> PrefillDecodeSpecializations(int64_t batch_size,
                                                         int64_t prompt_len,
                                                         int64_t ctx_len) {
  return CausalLMSpecializations(prompt_len, ctx_len, batch_size, 0);
}

std::string SpecializationsToJson(const std::vector<Specialization>& specs) {
  base::JsonValue list = base::JsonValue::Array();
  for (const Specialization& spec : specs) {
    base::JsonValue symbols = base::JsonValue::Object();
    std::vector<std::pair<std::string, int64_t>> sorted(spec.symbols.begin(),
                                                        spec.symbols.end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [k, v] : sorted)
      symbols.Set(k, base::JsonValue::String(absl::StrCat(v)));
    list.Append(base::JsonValue::Object()
                    .Set("name", base::JsonValue::String(spec.name))
                    .Set("symbols", std::move(symbols)));
  }
  return base::WriteJson(base::JsonValue::Object().Set("specializations",
                                                       std::move(list))) +
         "\n";
}

absl::StatusOr<std::vector<Specialization>> SpecializationsFromJson(
    const base::JsonValue& v, const std::string& where) {
  if (!v.is_array() || v.array().empty())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected a non-empty list"));
  std::vector<Specialization> out;
  std::set<std::string> names;
  for (size_t i = 0; i < v.array().size(); ++i) {
    const base::JsonValue& s = v.array()[i];
    const std::string w = absl::StrCat(where, "[", i, "]");
    if (!s.is_object())
      return absl::InvalidArgumentError(
          absl::StrCat(w, ": expected an object"));
    Specialization spec;
    bool have_symbols = false;
    for (const auto& [key, val] : s.object()) {
      if (key == "name") {
        if (!val.is_string() || val.string_value().empty())
          return absl::InvalidArgumentError(
              absl::StrCat(w, ".name: expected a non-empty string"));
        spec.name = val.string_value();
      } else if (key == "symbols") {
        if (!val.is_object() || val.object().empty())
          return absl::InvalidArgumentError(
              absl::StrCat(w, ".symbols: expected a non-empty object"));
        for (const auto& [sym, n] : val.object()) {
          int64_t x = 0;
          bool ok = false;
          if (n.is_number()) {
            auto i64 = n.AsInt64();
            ok = i64.ok();
            if (ok) x = *i64;
          } else if (n.is_string()) {
            ok = absl::SimpleAtoi(n.string_value(), &x);
          }
          if (!ok || x <= 0)
            return absl::InvalidArgumentError(absl::StrCat(
                w, ".symbols.", sym, ": must be a positive integer, got ",
                n.is_string() ? base::JsonQuote(n.string_value())
                : n.is_number()
                    ? n.number_text()
                    : std::string(base::JsonValue::KindName(n.kind()))));
          spec.symbols[sym] = x;
        }
        have_symbols = true;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(w, ": unknown field '", key, "'"));
      }
    }
    if (spec.name.empty() || !have_symbols)
      return absl::InvalidArgumentError(
          absl::StrCat(w, ": needs \"name\" and \"symbols\""));
    if (!names.insert(spec.name).second)
      return absl::InvalidArgumentError(
          absl::StrCat(w, ": duplicate specialization name '", spec.name, "'"));
    out.push_back(std::move(spec));
  }
  return out;
}

absl::StatusOr<std::vector<Specialization>> ParseSpecializationsJson(
    absl::string_view json, absl::string_view source) {
  absl::StatusOr<base::JsonValue> doc = base::ParseJson(json);
  if (!doc.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", doc.status().message()));
  if (!doc->is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": expected an object"));
  for (const auto& [key, val] : doc->object())
    if (key != "specializations")
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": unknown field '", key, "'"));
  const base::JsonValue* list = doc->Find("specializations");
  if (list == nullptr)
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": missing \"specializations\""));
  return SpecializationsFromJson(*list,
                                 absl::StrCat(source, ": specializations"));
}

}  // namespace qeff::hw
