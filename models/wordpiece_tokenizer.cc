#include "models/wordpiece_tokenizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "models/unicode.h"

namespace qeff::models {
namespace {

constexpr absl::string_view kSpace = "\xe2\x96\x81";  // U+2581

bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) ||
         (c >= 0x2B920 && c <= 0x2CEAF) ||  // sic, as HF and llama.cpp
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// First code point of the NFD decomposition of `c`.
char32_t NfdFirst(char32_t c) {
  if (c < 0xC0) return c;
  std::string s;
  unicode::AppendUtf8(c, &s);
  auto n = unicode::Normalize(s, unicode::NormalForm::kNfd);
  if (!n.ok() || n->empty()) return c;
  return unicode::DecodeUtf8(*n)[0];
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::vector<VocabToken> tokens,
                                       WordPieceOptions options)
    : tokens_(std::move(tokens)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::Create(
    std::vector<VocabToken> tokens, WordPieceOptions options) {
  const int32_t n = static_cast<int32_t>(tokens.size());
  if (n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.source, ": empty vocabulary"));
  }
  for (auto [id, what] :
       {std::pair<int32_t, const char*>{options.cls_id, "cls"},
        {options.sep_id, "sep"},
        {options.unk_id, "unk"}}) {
    if (id < 0 || id >= n) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.source, ": WordPiece ", what, " id ", id,
                       " is outside the vocabulary of ", n));
    }
  }
  auto tok = std::unique_ptr<WordPieceTokenizer>(
      new WordPieceTokenizer(std::move(tokens), std::move(options)));
  for (int32_t i = 0; i < n; ++i) {
    tok->token_to_id_[tok->tokens_[i].text] = i;
    tok->max_token_len_ =
        std::max(tok->max_token_len_, tok->tokens_[i].text.size());
  }
  tok->splitter_ = std::make_unique<SpecialTokenSplitter>(tok->tokens_);
  return tok;
}

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>>
WordPieceTokenizer::FromGguf(const GgufFile& gguf) {
  QEFF_ASSIGN_OR_RETURN(std::vector<VocabToken> tokens, ReadGgufVocab(gguf));
  const int32_t n = static_cast<int32_t>(tokens.size());
  WordPieceOptions opt;
  opt.source = gguf.path();
  QEFF_ASSIGN_OR_RETURN(opt.cls_id, ReadGgufTokenId(gguf, "bos", 101, n));
  if (gguf.Has("tokenizer.ggml.cls_token_id")) {
    QEFF_ASSIGN_OR_RETURN(opt.cls_id, ReadGgufTokenId(gguf, "cls", 101, n));
  }
  QEFF_ASSIGN_OR_RETURN(opt.sep_id, ReadGgufTokenId(gguf, "seperator", 102, n));
  QEFF_ASSIGN_OR_RETURN(opt.unk_id, ReadGgufTokenId(gguf, "unknown", 100, n));
  QEFF_ASSIGN_OR_RETURN(
      opt.lowercase,
      ReadGgufBool(gguf, "tokenizer.ggml.normalizer.lowercase", true));
  QEFF_ASSIGN_OR_RETURN(
      opt.strip_accents,
      ReadGgufBool(gguf, "tokenizer.ggml.normalizer.strip_accents",
                   opt.lowercase));
  return Create(std::move(tokens), std::move(opt));
}

std::vector<std::string> WordPieceTokenizer::PreTokenize(
    absl::string_view text) const {
  std::vector<std::string> words(1);
  for (char32_t cp : unicode::DecodeUtf8(text)) {
    if (options_.strip_accents) cp = NfdFirst(cp);
    const unicode::CptFlags f = unicode::Flags(cp);
    if (f.whitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == 0xFFFD || f.control) continue;
    if (options_.strip_accents && f.accent_mark) continue;
    std::string s;
    unicode::AppendUtf8(options_.lowercase ? unicode::ToLower(cp) : cp, &s);
    if (f.punctuation || (cp < 0x7F && f.symbol) || IsChineseChar(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = s;
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

absl::StatusOr<std::vector<int32_t>> WordPieceTokenizer::Encode(
    absl::string_view text, bool add_bos) const {
  size_t bad = FindInvalidUtf8(text);
  if (bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "text to tokenize is not valid UTF-8 at byte ", bad, " (0x",
        absl::Hex(static_cast<uint8_t>(text[bad]), absl::kZeroPad2), ")"));
  }
  std::vector<int32_t> out;
  if (add_bos) out.push_back(options_.cls_id);
  for (const TextFragment& f : splitter_->Split(text, false)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      continue;
    }
    for (const std::string& word :
         PreTokenize(text.substr(f.offset, f.length))) {
      const std::string w = absl::StrCat(kSpace, word);
      const size_t n = w.size(), before = out.size();
      for (size_t i = 0; i < n; ++i) {
        bool match = false;
        for (size_t j = std::min(n, i + max_token_len_ + 1); j > i; --j) {
          auto it = token_to_id_.find(absl::string_view(w).substr(i, j - i));
          if (it != token_to_id_.end()) {
            out.push_back(it->second);
            match = true;
            i = j - 1;
            break;
          }
        }
        if (!match) {
          out.resize(before);
          break;
        }
      }
      if (out.size() == before) out.push_back(options_.unk_id);
    }
  }
  if (add_bos) out.push_back(options_.sep_id);
  return out;
}

std::string WordPieceTokenizer::DecodeToken(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return "";
  const VocabToken& t = tokens_[id];
  if (t.attr & (kAttrControl | kAttrUnknown)) return "";
  return absl::StrReplaceAll(t.text, {{kSpace, " "}});
}

absl::StatusOr<std::string> WordPieceTokenizer::Decode(
    absl::Span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::OutOfRangeError(
          absl::StrCat("token id ", id, " is outside the vocabulary [0, ",
                       vocab_size(), ")"));
    }
    out += DecodeToken(id);
  }
  if (!out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

}  // namespace qeff::models
