// UTF-8 encoding of one code point, shared by the JSON parser and the
// tokenizers' Unicode helpers (header-only: the JSON parser must not pull in
// ICU).
#ifndef QEFF_BASE_UTF8_H_
#define QEFF_BASE_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"

namespace qeff::base {

// Appends `cp` (at most U+10FFFF) as 1-4 bytes.
inline void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// `text` with every byte that does not start a well-formed sequence
// replaced by U+FFFD (for JSON readers, which need valid UTF-8).
inline std::string ValidUtf8(absl::string_view text) {
  std::string out;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  auto cont = [&](size_t k) { return k < n && (s[k] & 0xC0) == 0x80; };
  for (size_t i = 0; i < n;) {
    const unsigned char b = s[i];
    size_t len = b < 0x80                          ? 1
                 : (b & 0xE0) == 0xC0 && b >= 0xC2 ? 2
                 : (b & 0xF0) == 0xE0              ? 3
                 : (b & 0xF8) == 0xF0 && b <= 0xF4 ? 4
                                                   : 0;
    for (size_t k = 1; k < len; ++k)
      if (!cont(i + k)) len = 0;
    if (len == 0) {
      AppendUtf8(0xFFFD, &out);
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
  return out;
}

}  // namespace qeff::base

#endif  // QEFF_BASE_UTF8_H_
