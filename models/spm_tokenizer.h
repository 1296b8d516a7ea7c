// SentencePiece-style BPE tokenizer (Llama 1/2, TinyLlama, llama2.c models),
// matching llama.cpp's llm_tokenizer_spm (llama-vocab.cpp) id for id:
//  - Encode: the text gets a leading space when add_space_prefix (the
//    default for llama), every ' ' becomes U+2581 ('▁'); the text is split
//    into UTF-8 characters, then adjacent symbols whose concatenation is a
//    vocabulary piece are merged, highest piece score first (ties: leftmost
//    pair); a final symbol that is not a piece is emitted as byte-fallback
//    tokens <0xNN> (or the single-byte piece, or unk). Empty text gives no
//    ids (just BOS when asked). Special tokens in the text are not parsed.
//  - DecodeToken: normal pieces with '▁' -> ' ', byte tokens as their byte,
//    user-defined pieces as they are; control, unknown and unused tokens
//    give "" (llama.cpp's token_to_piece with special=false).
// Built from GGUF metadata (tokenizer.ggml.model = "llama") or a llama2.c
// tokenizer.bin (whose pieces carry ' ' for '▁'; ids 0/1/2 are
// unk/bos/eos, types are inferred).
#ifndef QEFF_MODELS_SPM_TOKENIZER_H_
#define QEFF_MODELS_SPM_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "models/gguf.h"
#include "models/llama2c.h"
#include "models/tokenizer.h"

namespace qeff::models {

// llama.cpp's llama_token_type (GGUF tokenizer.ggml.token_type).
enum class SpmTokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct SpmPiece {
  std::string text;  // with U+2581 for spaces
  float score = 0;
  SpmTokenType type = SpmTokenType::kNormal;
};

struct SpmOptions {
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;
  bool add_bos = true;
  bool add_space_prefix = true;
  std::string source;  // file name for errors
};

class SpmTokenizer : public Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<SpmTokenizer>> Create(
      std::vector<SpmPiece> pieces, SpmOptions options);
  // From tokenizer.ggml.* metadata; errors name the file and key.
  static absl::StatusOr<std::unique_ptr<SpmTokenizer>> FromGguf(
      const GgufFile& gguf);
  static absl::StatusOr<std::unique_ptr<SpmTokenizer>> FromLlama2c(
      const Llama2cVocab& vocab);

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_bos) const override;
  std::string DecodeToken(int32_t id) const override;
  absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const override;
  int32_t bos_id() const override { return options_.bos_id; }
  int32_t eos_id() const override { return options_.eos_id; }
  int32_t vocab_size() const override {
    return static_cast<int32_t>(pieces_.size());
  }
  bool add_bos_by_default() const override { return options_.add_bos; }

  const SpmPiece& piece(int32_t id) const { return pieces_[id]; }
  const SpmOptions& options() const { return options_; }

 private:
  SpmTokenizer(std::vector<SpmPiece> pieces, SpmOptions options);
  int32_t Lookup(absl::string_view text) const;  // -1 if absent
  int32_t ByteToken(uint8_t byte) const;
  void EncodeSegment(const std::string& text, std::vector<int32_t>* out) const;

  std::vector<SpmPiece> pieces_;
  SpmOptions options_;
  absl::flat_hash_map<std::string, int32_t> piece_to_id_;
};

// Opens a tokenizer file: a .gguf (detected by its magic) or a llama2.c
// tokenizer.bin.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerFile(
    const std::string& path);

}  // namespace qeff::models

#endif  // QEFF_MODELS_SPM_TOKENIZER_H_
