#include "models/unicode.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "unicode/normalizer2.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"

namespace qeff::models::unicode {

std::vector<char32_t> DecodeUtf8(absl::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const uint8_t* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0, n = text.size();
  auto cont = [&](size_t k) { return k < n && (s[k] & 0xC0) == 0x80; };
  while (i < n) {
    uint8_t b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && cont(i + 1)) {
      out.push_back(((b & 0x1F) << 6) | (s[i + 1] & 0x3F));
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
      out.push_back(((b & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) |
                    (s[i + 2] & 0x3F));
      i += 3;
    } else if ((b & 0xF8) == 0xF0 && cont(i + 1) && cont(i + 2) &&
               cont(i + 3)) {
      out.push_back(((b & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) |
                    ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F));
      i += 4;
    } else {
      out.push_back(0xFFFD);
      i += 1;
    }
  }
  return out;
}

std::string EncodeUtf8(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) AppendUtf8(c, &out);
  return out;
}

bool IsWhitespace(char32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE);
}

CptFlags Flags(char32_t cp) {
  CptFlags f;
  const UChar32 c = static_cast<UChar32>(cp);
  const int32_t mask = U_GET_GC_MASK(c);
  f.number = (mask & U_GC_N_MASK) != 0;
  f.letter = (mask & U_GC_L_MASK) != 0;
  f.separator = (mask & U_GC_Z_MASK) != 0;
  f.accent_mark = (mask & U_GC_M_MASK) != 0;
  f.punctuation = (mask & U_GC_P_MASK) != 0;
  f.symbol = (mask & U_GC_S_MASK) != 0;
  f.control =
      (mask & (U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CO_MASK | U_GC_CS_MASK)) != 0;
  f.whitespace = IsWhitespace(cp);
  return f;
}

char32_t ToLower(char32_t cp) {
  return static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp)));
}

absl::StatusOr<NormalForm> ParseNormalForm(absl::string_view name) {
  if (name == "NFC") return NormalForm::kNfc;
  if (name == "NFD") return NormalForm::kNfd;
  if (name == "NFKC") return NormalForm::kNfkc;
  if (name == "NFKD") return NormalForm::kNfkd;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown normalizer '", name, "' (supported: NFC, NFD, NFKC, NFKD)"));
}

absl::StatusOr<std::string> Normalize(absl::string_view text, NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* norm = nullptr;
  switch (form) {
    case NormalForm::kNfc:
      norm = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalForm::kNfd:
      norm = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalForm::kNfkc:
      norm = icu::Normalizer2::getNFKCInstance(status);
      break;
    case NormalForm::kNfkd:
      norm = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status) || norm == nullptr) {
    return absl::InternalError(
        absl::StrCat("ICU normalizer unavailable: ", u_errorName(status)));
  }
  icu::UnicodeString src = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString dst = norm->normalize(src, status);
  if (U_FAILURE(status)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ICU normalization failed: ", u_errorName(status)));
  }
  std::string out;
  dst.toUTF8String(out);
  return out;
}

namespace {

struct ByteMaps {
  std::array<char32_t, 256> to_cp;
  std::array<int16_t, 324> from_cp;  // code points < 324 only
  ByteMaps() {
    from_cp.fill(-1);
    std::array<bool, 256> direct{};
    for (int c = 0x21; c <= 0x7E; ++c) direct[c] = true;
    for (int c = 0xA1; c <= 0xAC; ++c) direct[c] = true;
    for (int c = 0xAE; c <= 0xFF; ++c) direct[c] = true;
    int n = 0;
    for (int c = 0; c < 256; ++c) {
      to_cp[c] = direct[c] ? c : 256 + n++;
      from_cp[to_cp[c]] = static_cast<int16_t>(c);
    }
  }
};

const ByteMaps& Maps() {
  static const ByteMaps* maps = new ByteMaps();
  return *maps;
}

}  // namespace

char32_t ByteToCodepoint(uint8_t byte) { return Maps().to_cp[byte]; }

int CodepointToByte(char32_t cp) { return cp < 324 ? Maps().from_cp[cp] : -1; }

std::string ByteEncode(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  const ByteMaps& m = Maps();
  for (char c : bytes) AppendUtf8(m.to_cp[static_cast<uint8_t>(c)], &out);
  return out;
}

}  // namespace qeff::models::unicode
