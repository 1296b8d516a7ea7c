// Opens any tokenizer qeff knows by path:
//  - a .gguf (detected by magic, vocab-only files included):
//    tokenizer.ggml.model "llama" -> SpmTokenizer, "gpt2"/"gemma4" ->
//    BpeTokenizer, "bert" -> WordPieceTokenizer;
//  - a Hugging Face tokenizer.json (+ tokenizer_config.json beside it;
//    see hf_tokenizer.h);
//  - a model folder holding tokenizer.json, tokenizer.bin or model.gguf
//    (tried in that order);
//  - a llama2.c tokenizer.bin.
// Anything else is an error naming the path and what was expected.
#ifndef QEFF_MODELS_TOKENIZER_LOADER_H_
#define QEFF_MODELS_TOKENIZER_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "models/gguf.h"
#include "models/tokenizer.h"

namespace qeff::models {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(
    const std::string& path);
// The tokenizer embedded in a parsed GGUF file.
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(
    const GgufFile& gguf);

}  // namespace qeff::models

#endif  // QEFF_MODELS_TOKENIZER_LOADER_H_
