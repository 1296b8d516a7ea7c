// Artifact keys as QEfficient computes them (QEfficient/utils/hash_utils.py):
// the parameters' dict written as compact JSON with sorted keys and ASCII
// escapes (`json.dumps(d, sort_keys=True, separators=(",", ":"),
// ensure_ascii=True)`, its `to_hashable`), SHA-256, the first 16 hex digits.
// The artifact folder keeps the dict itself (hashed_export_params.json,
// hashed_compile_params.json), so anyone can recompute the name.
#ifndef QEFF_BASE_PARAMS_HASH_H_
#define QEFF_BASE_PARAMS_HASH_H_

#include <string>

#include "base/json.h"

namespace qeff::base {

inline constexpr int kHashHexDigits = 16;

// The bytes that are hashed.
std::string ToHashable(const JsonValue& params);
// SHA-256 of ToHashable(params), first kHashHexDigits hex digits.
std::string HashParams(const JsonValue& params);
// How the dict is stored beside the artifact (indented, sorted keys).
std::string ParamsFileText(const JsonValue& params);

}  // namespace qeff::base

#endif  // QEFF_BASE_PARAMS_HASH_H_
