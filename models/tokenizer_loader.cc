#include "models/tokenizer_loader.h"

#include <sys/stat.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/buffer.h"
#include "models/bpe_tokenizer.h"
#include "models/hf_tokenizer.h"
#include "models/spm_tokenizer.h"
#include "models/wordpiece_tokenizer.h"

namespace qeff::models {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool IsFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(
    const GgufFile& gguf) {
  QEFF_ASSIGN_OR_RETURN(std::string model,
                        gguf.GetString("tokenizer.ggml.model"));
  if (model == "llama") {
    QEFF_ASSIGN_OR_RETURN(auto t, SpmTokenizer::FromGguf(gguf));
    return std::unique_ptr<Tokenizer>(std::move(t));
  }
  if (model == "gpt2" || model == "gemma4") {
    QEFF_ASSIGN_OR_RETURN(auto t, BpeTokenizer::FromGguf(gguf));
    return std::unique_ptr<Tokenizer>(std::move(t));
  }
  if (model == "bert") {
    QEFF_ASSIGN_OR_RETURN(auto t, WordPieceTokenizer::FromGguf(gguf));
    return std::unique_ptr<Tokenizer>(std::move(t));
  }
  return absl::UnimplementedError(absl::StrCat(
      gguf.path(), ": tokenizer.ggml.model '", model,
      "' is not supported (supported: llama, gpt2, gemma4, bert)"));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(
    const std::string& path) {
  if (IsDir(path)) {
    for (const char* name : {"tokenizer.json", "tokenizer.bin", "model.gguf"}) {
      std::string p = absl::StrCat(path, "/", name);
      if (IsFile(p)) return LoadTokenizer(p);
    }
    return absl::NotFoundError(absl::StrCat(
        path, ": folder holds no tokenizer.json, tokenizer.bin or model.gguf"));
  }
  if (absl::EndsWith(path, ".json")) return LoadHfTokenizer(path);
  QEFF_ASSIGN_OR_RETURN(auto file, ir::MappedFile::Open(path));
  if (file->size() >= 4 && std::memcmp(file->data(), "GGUF", 4) == 0) {
    QEFF_ASSIGN_OR_RETURN(GgufFile gguf, ParseGguf(file));
    return TokenizerFromGguf(gguf);
  }
  return LoadTokenizerFile(path);  // llama2.c tokenizer.bin
}

}  // namespace qeff::models
