#include "engine/batch_shapes.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "engine/generation_common.h"

namespace qeff::engine {
namespace {

absl::StatusOr<int64_t> Symbol(const hw::Specialization& s,
                               absl::string_view name) {
  auto it = s.symbols.find(std::string(name));
  if (it == s.symbols.end())
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization '", s.name, "' does not bind '", name, "'"));
  return it->second;
}

// The "Prefill" and "Decode" specializations of `specs`.
absl::Status FindPair(const std::vector<hw::Specialization>& specs,
                      absl::string_view what,
                      const hw::Specialization** prefill,
                      const hw::Specialization** decode) {
  *prefill = *decode = nullptr;
  for (const auto& s : specs) {
    if (s.name == "Prefill") *prefill = &s;
    if (s.name == "Decode") *decode = &s;
  }
  if (!*prefill || !*decode)
    return absl::InvalidArgumentError(
        absl::StrCat(what, " needs 'Prefill' and 'Decode' specializations"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BatchShape> ContinuousBatchShapeOf(
    const std::vector<hw::Specialization>& specs) {
  const hw::Specialization *prefill, *decode;
  QEFF_RETURN_IF_ERROR(
      FindPair(specs, "continuous batching", &prefill, &decode));
  BatchShape o;
  o.continuous = true;
  QEFF_ASSIGN_OR_RETURN(int64_t pb, Symbol(*prefill, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(o.prefill_seq_len, Symbol(*prefill, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(o.ctx_len, Symbol(*prefill, "ctx_len"));
  QEFF_ASSIGN_OR_RETURN(o.rows, Symbol(*prefill, "full_batch_size"));
  QEFF_ASSIGN_OR_RETURN(int64_t db, Symbol(*decode, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(int64_t ds, Symbol(*decode, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t dc, Symbol(*decode, "ctx_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t df, Symbol(*decode, "full_batch_size"));
  if (pb != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Prefill': batch_size is ", pb, ", expected 1"));
  if (ds != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Decode': seq_len is ", ds, ", expected 1"));
  if (df != o.rows || db != o.rows)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Decode': batch_size ", db, " and full_batch_size ", df,
        " must both equal Prefill's full_batch_size ", o.rows));
  if (dc != o.ctx_len)
    return absl::InvalidArgumentError(
        absl::StrCat("specialization 'Decode': ctx_len ", dc,
                     " differs from Prefill's ", o.ctx_len));
  QEFF_RETURN_IF_ERROR(
      CheckBatchShape("full_batch_size", o.rows, o.prefill_seq_len, o.ctx_len));
  return o;
}

absl::StatusOr<BatchShape> StaticBatchShapeOf(
    const std::vector<hw::Specialization>& specs) {
  const hw::Specialization *prefill, *decode;
  QEFF_RETURN_IF_ERROR(FindPair(specs, "static batching", &prefill, &decode));
  for (const hw::Specialization* s : {prefill, decode}) {
    if (s->symbols.contains("full_batch_size"))
      return absl::InvalidArgumentError(
          absl::StrCat("specialization '", s->name,
                       "' binds 'full_batch_size' (a continuous-batching "
                       "program)"));
  }
  BatchShape o;
  QEFF_ASSIGN_OR_RETURN(o.rows, Symbol(*prefill, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(o.prefill_seq_len, Symbol(*prefill, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(o.ctx_len, Symbol(*prefill, "ctx_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t db, Symbol(*decode, "batch_size"));
  QEFF_ASSIGN_OR_RETURN(int64_t ds, Symbol(*decode, "seq_len"));
  QEFF_ASSIGN_OR_RETURN(int64_t dc, Symbol(*decode, "ctx_len"));
  if (ds != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "specialization 'Decode': seq_len is ", ds, ", expected 1"));
  if (db != o.rows)
    return absl::InvalidArgumentError(
        absl::StrCat("specialization 'Decode': batch_size ", db,
                     " differs from Prefill's ", o.rows));
  if (dc != o.ctx_len)
    return absl::InvalidArgumentError(
        absl::StrCat("specialization 'Decode': ctx_len ", dc,
                     " differs from Prefill's ", o.ctx_len));
  QEFF_RETURN_IF_ERROR(
      CheckBatchShape("batch_size", o.rows, o.prefill_seq_len, o.ctx_len));
  return o;
}

absl::StatusOr<BatchShape> BatchShapeOf(
    const std::vector<hw::Specialization>& specs) {
  for (const auto& s : specs) {
    if (s.name == "Prefill" && s.symbols.contains("full_batch_size"))
      return ContinuousBatchShapeOf(specs);
  }
  return StaticBatchShapeOf(specs);
}

}  // namespace qeff::engine
