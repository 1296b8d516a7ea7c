// Unicode helpers for the tokenizers, on ICU: code point decoding, the
// character classes the pre-tokenizers use (llama.cpp's unicode_cpt_flags
// computed from ICU's character database), simple lowercase, NFC/NFD/NFKC
// normalization (ICU Normalizer2) and GPT-2's byte <-> unicode mapping.
// Everything here is thread-safe.
#ifndef QEFF_MODELS_UNICODE_H_
#define QEFF_MODELS_UNICODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/utf8.h"

namespace qeff::models::unicode {

// Code points of `text`; a byte that does not start a valid sequence becomes
// U+FFFD (as llama.cpp's unicode_cpts_from_utf8). Callers validate first.
std::vector<char32_t> DecodeUtf8(absl::string_view text);
using ::qeff::base::AppendUtf8;  // base/utf8.h
std::string EncodeUtf8(const std::vector<char32_t>& cps);

// General category groups (\p{N}, \p{L}, ...) plus White_Space.
struct CptFlags {
  bool number = false;       // N*
  bool letter = false;       // L*
  bool separator = false;    // Z*
  bool accent_mark = false;  // M*
  bool punctuation = false;  // P*
  bool symbol = false;       // S*
  bool control = false;      // C* (Cc, Cf, Co, Cs; unassigned is none)
  bool whitespace = false;   // Unicode White_Space (llama.cpp's \s set)
};
CptFlags Flags(char32_t cp);
bool IsWhitespace(char32_t cp);
// Simple (one code point) lowercase mapping.
char32_t ToLower(char32_t cp);

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };
// `text` (valid UTF-8) normalized; "NFC", "NFD", ... parse with
// ParseNormalForm.
absl::StatusOr<std::string> Normalize(absl::string_view text, NormalForm form);
absl::StatusOr<NormalForm> ParseNormalForm(absl::string_view name);

// GPT-2's bytes_to_unicode: every byte as a printable code point ('Ġ' for
// ' ', ...), and back (-1 for code points that stand for no byte).
char32_t ByteToCodepoint(uint8_t byte);
int CodepointToByte(char32_t cp);
// `bytes` with every byte replaced by its GPT-2 code point, as UTF-8.
std::string ByteEncode(absl::string_view bytes);

}  // namespace qeff::models::unicode

#endif  // QEFF_MODELS_UNICODE_H_
