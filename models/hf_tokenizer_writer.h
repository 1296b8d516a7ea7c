// Writes a vocabulary as Hugging Face tokenizer.json + tokenizer_config.json,
// structured the way Hugging Face's own files for that family are:
//  - "llama" (SentencePiece BPE): Llama-2 style -- model BPE with
//    byte_fallback, fuse_unk, unk_token, merges extracted from the piece
//    scores as transformers' SentencePieceExtractor does (every split of a
//    piece into two pieces, ordered by the piece's score, ties by the ids of
//    the halves); normalizer Sequence[Prepend("▁"), Replace(" ", "▁")];
//    decoder Replace/ByteFallback/Fuse/Strip; TemplateProcessing with <s>.
//  - "gpt2" (byte-level BPE) by pre-tokenizer type: gpt-2/mpt (ByteLevel
//    with GPT-2's regex), llama-bpe/llama3 (Split with LLaMA-3's regex +
//    ByteLevel, ignore_merges), qwen2 (NFC, Split with Qwen2's regex +
//    ByteLevel), starcoder/refact (Digits + ByteLevel).
//  - "bert" (WordPiece): BertNormalizer, BertPreTokenizer, "##" pieces
//    (llama.cpp's U+2581 spelling undone), TemplateProcessing [CLS] $A [SEP].
// Control and unknown tokens become special added tokens, user-defined ones
// non-special added tokens; unused tokens ("[PAD<id>]" placeholders) are
// left out. Used by tests (GGUF vs tokenizer.json consistency) and by the
// test-model writer; it is not a converter for real checkpoints.
#ifndef QEFF_MODELS_HF_TOKENIZER_WRITER_H_
#define QEFF_MODELS_HF_TOKENIZER_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/gguf.h"

namespace qeff::models {

struct HfVocabSource {
  std::string model;  // "llama", "gpt2" or "bert" (tokenizer.ggml.model)
  std::string pre;    // gpt2: tokenizer.ggml.pre
  std::vector<std::string> tokens;
  std::vector<float> scores;        // llama: piece scores
  std::vector<int32_t> types;       // GGUF token types (1 normal ... 6 byte)
  std::vector<std::string> merges;  // gpt2: "left right"
  int32_t bos_id = -1;              // bert: [CLS]
  int32_t eos_id = -1;              // bert: [SEP]
  int32_t unk_id = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;  // llama
  bool lowercase = true;         // bert
};

// tokenizer.ggml.* of a GGUF file; errors name the file and key.
absl::StatusOr<HfVocabSource> HfVocabSourceFromGguf(const GgufFile& gguf);

struct HfTokenizerFiles {
  std::string tokenizer_json;
  std::string tokenizer_config_json;
};
// An unsupported model or pre-tokenizer type is an Unimplemented error
// listing the supported ones.
absl::StatusOr<HfTokenizerFiles> MakeHfTokenizerFiles(const HfVocabSource& v);

}  // namespace qeff::models

#endif  // QEFF_MODELS_HF_TOKENIZER_WRITER_H_
