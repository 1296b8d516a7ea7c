// Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) -> a qeff
// Tokenizer, mapped onto the llama.cpp-exact machinery:
//  - model BPE with a ByteLevel pre-tokenizer (GPT-2, LLaMA-3, Qwen2,
//    StarCoder style) -> BpeTokenizer with byte_encode. The pre-tokenizer
//    regexes are the file's own: Split{Regex, behavior Isolated} patterns
//    run through ICU (pretokenize.h; "(?i:...)" groups are expanded to
//    ASCII [xX] classes as llama.cpp does, so 'ſ' is not 's'),
//    ByteLevel{use_regex true} adds GPT-2's regex, Digits adds \p{N} or
//    \p{N}+. model.ignore_merges is honoured (LLaMA-3).
//  - model BPE without ByteLevel, byte_fallback, normalizer
//    Sequence[Prepend("▁"), Replace(" ", "▁")] (Llama-2 style) or
//    pre_tokenizer Metaspace{split false} -> BpeTokenizer with merges,
//    prefix "▁", ' ' -> '▁' and <0xNN> byte fallback.
//  - model WordPiece with normalizer BertNormalizer and pre_tokenizer
//    BertPreTokenizer (BERT, BGE) -> WordPieceTokenizer (the vocabulary is
//    respelled the way llama.cpp's converter does: "##x" -> "x", other
//    non-control pieces get a leading U+2581).
// Normalizers NFC/NFD/NFKC/NFKD are applied as the file asks.
//
// Added tokens follow llama.cpp's converter (convert_hf_to_gguf.py
// get_vocab_base), so the result matches the GGUF llama.cpp would make
// from the same folder: special=true (or looking special: "<|...|>",
// "<｜...｜>", "<unused*>", "<pad>", "<mask>") -> control, i.e. NOT split
// out of the text (Encode treats "<s>" in text as plain text, as
// Tokenizer::Encode documents; Hugging Face would give its id);
// special=false -> user-defined, split out of the text as Hugging Face
// does; the model's unk_token -> unknown. llama.cpp's load-time attribute
// fix-ups (tokenizer_vocab.h) are applied. Ids missing from both vocab and
// added_tokens become unused "[PAD<id>]" placeholders.
//
// BOS/EOS: post_processor TemplateProcessing (also inside a Sequence) or
// BertProcessing/RobertaProcessing gives the tokens added around a single
// sequence; tokenizer_config.json's add_bos_token/add_eos_token override
// whether they are added, and its bos_token/eos_token name them when the
// template does not.
//
// Anything else (Unigram/WordLevel models, other normalizers,
// pre-tokenizers, Split behaviours, dropout, subword prefixes on BPE) is
// an Unimplemented error naming the field and listing what is supported.
#ifndef QEFF_MODELS_HF_TOKENIZER_H_
#define QEFF_MODELS_HF_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/json.h"
#include "models/hf_config.h"
#include "models/tokenizer.h"

namespace qeff::models {

// `tokenizer` is the parsed tokenizer.json; `config` the parsed
// tokenizer_config.json or null. Errors name `source` and the field.
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromHfJson(
    const base::JsonValue& tokenizer, const TokenizerConfig* config,
    const std::string& source);

// Reads `tokenizer_json_path` and, when it exists, tokenizer_config.json in
// the same folder.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizer(
    const std::string& tokenizer_json_path);

// "(?i:'s|'t)" -> "(?:'[sS]|'[tT])": ASCII letters inside (?i:...) groups
// become two-case classes (exposed for tests).
std::string ExpandCaseInsensitiveGroups(absl::string_view regex);

}  // namespace qeff::models

#endif  // QEFF_MODELS_HF_TOKENIZER_H_
