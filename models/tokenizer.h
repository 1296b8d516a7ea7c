// The tokenizer interface every model family's tokenizer implements, UTF-8
// helpers, and a streaming decoder for printing generated tokens.
#ifndef QEFF_MODELS_TOKENIZER_H_
#define QEFF_MODELS_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace qeff::models {

// The byte of a SentencePiece byte-fallback piece "<0xNN>", or -1.
inline int ParseByteToken(absl::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>')
    return -1;
  int v = 0;
  for (char c : text.substr(3, 2)) {
    v *= 16;
    if (c >= '0' && c <= '9') {
      v += c - '0';
    } else if (c >= 'A' && c <= 'F') {
      v += c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      v += c - 'a' + 10;
    } else {
      return -1;
    }
  }
  return v;
}

// Text <-> token ids. Implementations are immutable after construction and
// safe to use from several threads.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Ids for `text` (UTF-8; invalid UTF-8 is an error naming the byte
  // offset), with the BOS id first when `add_bos`. Control tokens written
  // as text (e.g. "<s>") are encoded as plain text, never as their id.
  virtual absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                                      bool add_bos) const = 0;
  // The exact bytes token `id` stands for: its piece with the
  // word-boundary marker resolved (e.g. SentencePiece's U+2581 -> ' ') and
  // byte-fallback tokens (<0xNN>) as their single byte, so a token may be
  // part of a UTF-8 sequence. Control/unknown tokens and out-of-range ids
  // give "". Concatenating DecodeToken over generated ids gives the
  // generated text exactly.
  virtual std::string DecodeToken(int32_t id) const = 0;
  // The text of `ids`: DecodeToken concatenated, except that when ids start
  // with BOS, the word-boundary space that Encode prefixes to the text is
  // dropped (so Decode(Encode(t, true)) == t). Out-of-range ids are errors.
  virtual absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const = 0;

  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  virtual int32_t vocab_size() const = 0;
  // Whether the model's tokenizer config adds BOS to prompts.
  virtual bool add_bos_by_default() const = 0;

  // A text prompt's ids as llama.cpp tokenizes a prompt
  // (add_special=true): BOS first only when the tokenizer adds one by
  // default (Llama/SentencePiece and llama-bpe do; Qwen2 and GPT-2 do not),
  // and EOS after it when the tokenizer also adds EOS.
  absl::StatusOr<std::vector<int32_t>> EncodePrompt(
      absl::string_view text) const {
    return Encode(text, add_bos_by_default());
  }
};

// Turns a stream of token ids into printable text chunks: each chunk is
// whole UTF-8 sequences; bytes of a sequence that is not complete yet are
// held back until the tokens that complete it arrive. Bytes that can never
// form valid UTF-8 are passed through as they are (never held forever).
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer* tokenizer)
      : tokenizer_(tokenizer) {}
  // The text that became complete with token `id` (possibly empty).
  std::string Push(int32_t id);
  // Whatever is still held back (an incomplete sequence at the end).
  std::string Finish();

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
};

// Length of the UTF-8 sequence that starts with `lead` (1..4), or 0 when
// `lead` cannot start one.
int Utf8SequenceLength(uint8_t lead);
// Offset of the first byte where `text` stops being valid UTF-8 (rejects
// overlong forms, surrogates and code points past U+10FFFF), or npos.
size_t FindInvalidUtf8(absl::string_view text);
// Length of the longest prefix of `bytes` that does not end inside an
// incomplete but still possibly valid sequence.
size_t CompleteUtf8Prefix(absl::string_view bytes);

}  // namespace qeff::models

#endif  // QEFF_MODELS_TOKENIZER_H_
