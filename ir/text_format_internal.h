// Helpers shared by the text printer (text_format.cc) and parser
// (text_parse.cc). Not a public API.
#ifndef QEFF_IR_TEXT_FORMAT_INTERNAL_H_
#define QEFF_IR_TEXT_FORMAT_INTERNAL_H_

#include <cctype>
#include <string>

#include "absl/strings/string_view.h"

namespace qeff::ir::text_internal {

// Characters of an unquoted value name. ':' is allowed inside a name
// (`%split:0`) but not at its end, so `%x: f32[2]` reads as name `x`.
inline bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
         c == '/' || c == '-' || c == ':';
}

// Identifiers: op types, domains (dotted), attribute names, dtypes.
inline bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
inline bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace qeff::ir::text_internal

#endif  // QEFF_IR_TEXT_FORMAT_INTERNAL_H_
