#include "models/tokenizer.h"

namespace qeff::models {
namespace {

bool IsCont(uint8_t b) { return (b & 0xC0) == 0x80; }

// Whether bytes[1..n) can continue the sequence started by bytes[0]
// (checking the second-byte ranges that exclude overlongs, surrogates and
// > U+10FFFF).
bool ValidContinuation(const uint8_t* s, size_t n) {
  for (size_t k = 1; k < n; ++k) {
    if (!IsCont(s[k])) return false;
  }
  if (n >= 2) {
    uint8_t a = s[0], b = s[1];
    if (a == 0xE0 && b < 0xA0) return false;
    if (a == 0xED && b > 0x9F) return false;
    if (a == 0xF0 && b < 0x90) return false;
    if (a == 0xF4 && b > 0x8F) return false;
  }
  return true;
}

}  // namespace

int Utf8SequenceLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

size_t FindInvalidUtf8(absl::string_view text) {
  const uint8_t* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    int len = Utf8SequenceLength(s[i]);
    if (len == 0 || i + len > text.size() || !ValidContinuation(s + i, len)) {
      return i;
    }
    i += len;
  }
  return absl::string_view::npos;
}

size_t CompleteUtf8Prefix(absl::string_view bytes) {
  const uint8_t* s = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  while (i < bytes.size()) {
    int len = Utf8SequenceLength(s[i]);
    if (len == 0) {  // a stray byte: passes through
      ++i;
      continue;
    }
    size_t avail = bytes.size() - i;
    if (avail < static_cast<size_t>(len)) {
      // Hold back only if what is there can still become valid.
      if (ValidContinuation(s + i, avail)) return i;
      ++i;
      continue;
    }
    if (!ValidContinuation(s + i, len)) {
      ++i;
      continue;
    }
    i += len;
  }
  return i;
}

std::string StreamingDecoder::Push(int32_t id) {
  pending_ += tokenizer_->DecodeToken(id);
  size_t n = CompleteUtf8Prefix(pending_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::string StreamingDecoder::Finish() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace qeff::models
