// Shape specializations: named bindings of a graph's symbols
// (batch_size, seq_len, ctx_len, full_batch_size …) a program is compiled
// for. Read and written in QEfficient's named `specializations.json` form:
// {"specializations":[{"name":"Prefill","symbols":{"batch_size":"1",
//   "seq_len":"32","ctx_len":"128"}}, …]}.
#ifndef QEFF_HW_SPECIALIZATION_H_
#define QEFF_HW_SPECIALIZATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/json.h"
#include "ir/shape.h"

namespace qeff::hw {

struct Specialization {
  std::string name;
  ir::SymbolBindings symbols;
};

// A causal LM's specializations as QEfficient builds them: without
// continuous batching (full_batch_size 0) Prefill (batch_size, seq_len =
// prefill_seq_len, ctx_len) and Decode (batch_size, seq_len 1, ctx_len);
// with it, Prefill has batch_size 1 and Decode batch_size =
// full_batch_size, both carrying full_batch_size. The one builder every
// caller uses (model API, farm jobs, tools).
std::vector<Specialization> CausalLMSpecializations(int64_t prefill_seq_len,
                                                    int64_t ctx_len,
                                                    int64_t batch_size,
                                                    int64_t full_batch_size);

// The usual pair for a causal LM (CausalLMSpecializations without
// continuous batching).
std::vector<Specialization> PrefillDecodeSpecializations(int64_t batch_size,
                                                         int64_t prompt_len,
                                                         int64_t ctx_len);

// The named form, compact, symbols sorted, names escaped; ends in "\n".
std::string SpecializationsToJson(const std::vector<Specialization>& specs);
// Reads the named form. `source` names the file in errors. Every
// specialization needs a unique non-empty "name" and a non-empty "symbols"
// object of positive integers (as numbers or decimal strings); any other
// field is an error.
absl::StatusOr<std::vector<Specialization>> ParseSpecializationsJson(
    absl::string_view json, absl::string_view source);
// The same rules for the list alone (e.g. a farm job's "specializations");
// `where` prefixes errors.
absl::StatusOr<std::vector<Specialization>> SpecializationsFromJson(
    const base::JsonValue& list, const std::string& where);

}  // namespace qeff::hw

#endif  // QEFF_HW_SPECIALIZATION_H_
