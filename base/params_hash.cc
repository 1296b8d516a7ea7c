#include "base/params_hash.h"

#include "base/digest.h"

namespace qeff::base {

std::string ToHashable(const JsonValue& params) {
  JsonWriteOptions o;
  o.sort_keys = true;
  o.ascii = true;
  return WriteJson(params, o);
}

std::string HashParams(const JsonValue& params) {
  return Sha256Hex(ToHashable(params)).substr(0, kHashHexDigits);
}

std::string ParamsFileText(const JsonValue& params) {
  JsonWriteOptions o;
  o.sort_keys = true;
  o.indent = 4;
  return WriteJson(params, o) + "\n";
}

}  // namespace qeff::base
