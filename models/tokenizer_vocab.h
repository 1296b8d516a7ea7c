// What every llama.cpp-style tokenizer shares: token texts with llama.cpp's
// token attributes (llama_token_attr bits), llama.cpp's special-token
// fix-ups done at load time, and the split of the input text at special
// tokens (llama_vocab::impl::tokenizer_st_partition).
#ifndef QEFF_MODELS_TOKENIZER_VOCAB_H_
#define QEFF_MODELS_TOKENIZER_VOCAB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/gguf.h"

namespace qeff::models {

// llama.h's llama_token_attr.
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrNormalized = 1u << 6,
  kAttrLstrip = 1u << 7,
  kAttrRstrip = 1u << 8,
  kAttrSingleWord = 1u << 9,
};

// GGUF tokenizer.ggml.token_type (llama_token_type) -> attribute.
uint32_t AttrFromTokenType(int64_t type);

struct VocabToken {
  std::string text;
  float score = 0;
  uint32_t attr = kAttrNormal;
};

// Special ids llama.cpp reads from GGUF (-1: none), used by the fix-ups.
struct SpecialIds {
  int32_t eot = -1, eom = -1;
  int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1;
  int32_t fim_pad = -1, fim_rep = -1, fim_sep = -1;
};

// llama.cpp's load-time attribute fix-ups by token text: EOT/EOM/FIM-looking
// tokens and end-of-generation tokens become control, control tokens named
// "*unused*" become unused, gpt-oss's channel tokens user-defined, and the
// o200k/solar and gemma4 workarounds. `model_name` is general.name (phi-3
// gets rstrip on its special tokens).
void ApplyLlamaCppAttrFixups(const SpecialIds& ids,
                             absl::string_view model_name,
                             std::vector<VocabToken>* tokens);

// A piece of the input: a special token, or a byte range of the text.
struct TextFragment {
  int32_t token = -1;  // >= 0: this special token
  size_t offset = 0;
  size_t length = 0;
};

// Splits text at special tokens (control, user-defined, unknown; longest
// first), as llama.cpp does. With parse_special == false only user-defined
// tokens are split out (as Hugging Face tokenizers does for added tokens).
// lstrip/rstrip attributes eat the ASCII whitespace beside the token.
class SpecialTokenSplitter {
 public:
  explicit SpecialTokenSplitter(const std::vector<VocabToken>& tokens);
  std::vector<TextFragment> Split(absl::string_view text,
                                  bool parse_special) const;

 private:
  const std::vector<VocabToken>* tokens_;
  std::vector<int32_t> special_;  // by text length, longest first
};

// The tokens of a GGUF vocabulary (tokenizer.ggml.tokens, .scores,
// .token_type) with llama.cpp's attribute fix-ups applied; empty texts
// become "[EMPTY_<id>]" as in llama.cpp. Errors name the file and key.
absl::StatusOr<std::vector<VocabToken>> ReadGgufVocab(const GgufFile& gguf);
// A special token id key (tokenizer.ggml.<name>_token_id): `dflt` when
// absent, -1 when out of range ("none").
absl::StatusOr<int32_t> ReadGgufTokenId(const GgufFile& gguf,
                                        absl::string_view name, int32_t dflt,
                                        int32_t n_tokens);
// A boolean key, `dflt` when absent.
absl::StatusOr<bool> ReadGgufBool(const GgufFile& gguf, absl::string_view key,
                                  bool dflt);

}  // namespace qeff::models

#endif  // QEFF_MODELS_TOKENIZER_VOCAB_H_
