// WordPiece tokenizer (BERT, BGE and other encoder embedding models),
// matching llama.cpp's llm_tokenizer_wpm id for id:
//  - BERT's basic pre-tokenizer: with strip_accents every code point is
//    replaced by the first code point of its NFD decomposition and accent
//    marks are dropped (llama.cpp's table; note Hangul syllables keep only
//    their first jamo, as in llama.cpp); with lowercase, simple lowercase;
//    control characters, U+0000 and U+FFFD are dropped; whitespace splits
//    words; punctuation, ASCII symbols and CJK ideographs are words of
//    their own.
//  - Each word, prefixed with U+2581 (the word-start marker the GGUF
//    vocabulary carries in place of WordPiece's missing "##"), is cut
//    greedily into the longest vocabulary pieces; a word with an unknown
//    piece becomes [UNK].
//  - Encode(text, add_bos=true) gives [CLS] ... [SEP] (llama.cpp's
//    add_special).
//  - DecodeToken: U+2581 -> ' '; control tokens give "". Decode drops the
//    leading space. Decoding cannot undo lowercasing or accent stripping.
// From GGUF (tokenizer.ggml.model = "bert") or tokenizer.json (WordPiece).
#ifndef QEFF_MODELS_WORDPIECE_TOKENIZER_H_
#define QEFF_MODELS_WORDPIECE_TOKENIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "models/gguf.h"
#include "models/tokenizer.h"
#include "models/tokenizer_vocab.h"

namespace qeff::models {

struct WordPieceOptions {
  int32_t cls_id = 101;  // bos
  int32_t sep_id = 102;  // appended with add_special
  int32_t unk_id = 100;
  bool lowercase = true;
  bool strip_accents = true;
  std::string source;
};

class WordPieceTokenizer : public Tokenizer {
 public:
  // `tokens` use llama.cpp's spelling: word-start pieces begin with U+2581,
  // continuation pieces have no "##".
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> Create(
      std::vector<VocabToken> tokens, WordPieceOptions options);
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> FromGguf(
      const GgufFile& gguf);

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_bos) const override;
  std::string DecodeToken(int32_t id) const override;
  absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const override;
  int32_t bos_id() const override { return options_.cls_id; }
  int32_t eos_id() const override { return options_.sep_id; }
  int32_t vocab_size() const override {
    return static_cast<int32_t>(tokens_.size());
  }
  bool add_bos_by_default() const override { return true; }

  // The basic pre-tokenizer's words (exposed for tests).
  std::vector<std::string> PreTokenize(absl::string_view text) const;

 private:
  WordPieceTokenizer(std::vector<VocabToken> tokens, WordPieceOptions options);
  std::vector<VocabToken> tokens_;
  WordPieceOptions options_;
  absl::flat_hash_map<std::string, int32_t> token_to_id_;
  size_t max_token_len_ = 0;
  std::unique_ptr<SpecialTokenSplitter> splitter_;
};

}  // namespace qeff::models

#endif  // QEFF_MODELS_WORDPIECE_TOKENIZER_H_
