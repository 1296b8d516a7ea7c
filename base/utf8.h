// UTF-8 encoding of one code point, shared by the JSON parser and the
// tokenizers' Unicode helpers (header-only: the JSON parser must not pull in
// ICU).
#ifndef QEFF_BASE_UTF8_H_
#define QEFF_BASE_UTF8_H_

#include <string>

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

}  // namespace qeff::base

#endif  // QEFF_BASE_UTF8_H_
