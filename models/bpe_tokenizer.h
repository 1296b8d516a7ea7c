// Byte-level BPE tokenizer (GPT-2, LLaMA-3, Qwen2, StarCoder, Falcon,
// DeepSeek, Command-R, MPT, ...) and SentencePiece-style BPE with merges
// (Gemma 4, tokenizer.json Llama-2 style), matching llama.cpp's
// llm_tokenizer_bpe id for id:
//  - Encode: the text is split at user-defined tokens (control tokens in
//    the text are plain text), each remaining fragment goes through the
//    pre-tokenizer of its `tokenizer.ggml.pre` type (see pretokenize.h),
//    each word is mapped through GPT-2's byte->unicode table (byte-level)
//    and merged by merge rank (lowest first, ties leftmost); a word that is
//    a whole token stays one token when the type ignores merges (llama3).
//    A final symbol that is no token falls back to its single bytes'
//    tokens (or <0xNN> tokens without the byte mapping).
//  - DecodeToken: normal tokens through unicode->byte (or U+2581 -> ' '),
//    byte tokens as their byte, user-defined tokens as written; control,
//    unknown and unused tokens give "".
#ifndef QEFF_MODELS_BPE_TOKENIZER_H_
#define QEFF_MODELS_BPE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "models/gguf.h"
#include "models/pretokenize.h"
#include "models/tokenizer.h"
#include "models/tokenizer_vocab.h"

namespace qeff::models {

struct BpeOptions {
  PreTokenizerConfig pre;  // regexes and flags
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  bool add_bos = false;
  bool add_eos = false;
  // Text prepended to every text fragment, e.g. "▁" (tokenizer.json
  // Prepend normalizer of Llama-2 style vocabularies).
  std::string prefix;
  // Unicode normalization applied to text fragments before splitting
  // ("" = none, else NFC/NFD/NFKC/NFKD).
  std::string normalizer;
  std::string source;  // file name for errors
};

class BpeTokenizer : public Tokenizer {
 public:
  // merges: (left, right) in rank order. Errors name options.source.
  static absl::StatusOr<std::unique_ptr<BpeTokenizer>> Create(
      std::vector<VocabToken> tokens,
      std::vector<std::pair<std::string, std::string>> merges,
      BpeOptions options);
  // tokenizer.ggml.model = "gpt2" or "gemma4".
  static absl::StatusOr<std::unique_ptr<BpeTokenizer>> FromGguf(
      const GgufFile& gguf);

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_bos) const override;
  std::string DecodeToken(int32_t id) const override;
  absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const override;
  int32_t bos_id() const override { return options_.bos_id; }
  int32_t eos_id() const override { return options_.eos_id; }
  int32_t vocab_size() const override {
    return static_cast<int32_t>(tokens_.size());
  }
  bool add_bos_by_default() const override { return options_.add_bos; }
  const BpeOptions& options() const { return options_; }
  const VocabToken& token(int32_t id) const { return tokens_[id]; }

 private:
  BpeTokenizer(std::vector<VocabToken> tokens, BpeOptions options);
  int32_t Lookup(absl::string_view text) const;
  int Rank(absl::string_view left, absl::string_view right,
           std::string* key) const;
  void EncodeWord(const std::string& word, std::vector<int32_t>* out) const;

  std::vector<VocabToken> tokens_;
  BpeOptions options_;
  absl::flat_hash_map<std::string, int32_t> token_to_id_;
  absl::flat_hash_map<std::string, int32_t> ranks_;  // left \xff right
  std::unique_ptr<PreTokenizer> pre_;
  std::unique_ptr<SpecialTokenSplitter> splitter_;
  std::vector<std::string> decoded_;  // DecodeToken per id
};

}  // namespace qeff::models

#endif  // QEFF_MODELS_BPE_TOKENIZER_H_
