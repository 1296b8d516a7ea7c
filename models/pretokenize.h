// Regex pre-tokenizers of byte-level BPE vocabularies, as llama.cpp's
// llm_tokenizer_bpe (llama-vocab.cpp) and unicode_regex_split (unicode.cpp)
// define them for each GGUF `tokenizer.ggml.pre` value, run with ICU's
// regex engine (Unicode classes, lookahead).
//
// Semantics (llama.cpp's): the regexes are applied in order; each one
// splits every piece produced so far into its matches and the text between
// them. A regex sees one piece at a time as its whole input (lookahead stops
// at the piece's end). \s is llama.cpp's whitespace set (Unicode
// White_Space); a non-ASCII whitespace character is seen by the regex as
// U+000B, as llama.cpp does; \d is [0-9]; $ is the end of the piece.
// \p{L}, \p{N}, ... use ICU's character database.
//
// Not supported: the pre-tokenizers that llama.cpp implements only in hand
// written code (kimi-k2, afmoe, tiny_aya, superbpe) -- an error names the
// supported types.
#ifndef QEFF_MODELS_PRETOKENIZE_H_
#define QEFF_MODELS_PRETOKENIZE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qeff::models {

// What a `tokenizer.ggml.pre` value implies besides its regexes (llama.cpp's
// llama_vocab::impl::load).
struct PreTokenizerConfig {
  std::string name;                  // canonical pre type, e.g. "llama3"
  std::vector<std::string> regexes;  // llama.cpp syntax (ECMAScript-like)
  bool byte_encode = true;           // GPT-2 byte <-> unicode mapping
  bool escape_whitespaces = false;   // ' ' -> U+2581 before splitting
  bool ignore_merges = false;        // a whole word in the vocab is one token
  bool clean_spaces = true;          // clean_up_tokenization_spaces
  bool add_bos = false;              // default before GGUF add_bos_token
  bool add_sep = false;
  bool bos_is_null = false;  // no BOS by default (chatglm)
};

// The configuration for a GGUF `tokenizer.ggml.pre` value ("" = "default").
// Unknown values are an error listing the supported ones.
absl::StatusOr<PreTokenizerConfig> PreTokenizerConfigFor(absl::string_view pre);
// Every supported `tokenizer.ggml.pre` value.
std::vector<std::string> SupportedPreTokenizers();

class PreTokenizer {
 public:
  ~PreTokenizer();
  // Compiles llama.cpp-syntax regexes; a bad regex is an error naming it.
  static absl::StatusOr<std::unique_ptr<PreTokenizer>> Create(
      const std::vector<std::string>& regexes);
  // `text` (valid UTF-8) split into words, in order; concatenated they give
  // `text` back.
  std::vector<std::string> Split(absl::string_view text) const;

 private:
  struct Impl;
  explicit PreTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// llama.cpp regex syntax -> ICU regex syntax (exposed for tests).
std::string TranslateRegexForIcu(absl::string_view regex);

}  // namespace qeff::models

#endif  // QEFF_MODELS_PRETOKENIZE_H_
