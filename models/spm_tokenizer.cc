#include "models/spm_tokenizer.h"

#include <cstring>
#include <queue>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

constexpr absl::string_view kSpace = "\xe2\x96\x81";  // U+2581

// One symbol of the merge: a byte range of the normalized text and its
// neighbours (a doubly linked list over the initial characters).
struct Symbol {
  int prev;
  int next;
  const char* text;
  size_t n;
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t size;
};

// llama.cpp's llm_bigram_spm::comparator: highest score on top, ties go to
// the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

}  // namespace

SpmTokenizer::SpmTokenizer(std::vector<SpmPiece> pieces, SpmOptions options)
    : pieces_(std::move(pieces)), options_(std::move(options)) {
  piece_to_id_.reserve(pieces_.size());
  // As llama.cpp: a later duplicate piece wins.
  for (size_t i = 0; i < pieces_.size(); ++i) {
    piece_to_id_[pieces_[i].text] = static_cast<int32_t>(i);
  }
}

absl::StatusOr<std::unique_ptr<SpmTokenizer>> SpmTokenizer::Create(
    std::vector<SpmPiece> pieces, SpmOptions options) {
  const std::string& src = options.source;
  if (pieces.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(src, ": empty vocabulary"));
  }
  const int32_t n = static_cast<int32_t>(pieces.size());
  auto check_id = [&](int32_t id, const char* what) -> absl::Status {
    if (id < -1 || id >= n) {
      return absl::InvalidArgumentError(absl::StrCat(
          src, ": ", what, " id ", id, " is outside the vocabulary of ", n));
    }
    return absl::OkStatus();
  };
  QEFF_RETURN_IF_ERROR(check_id(options.bos_id, "bos"));
  QEFF_RETURN_IF_ERROR(check_id(options.eos_id, "eos"));
  QEFF_RETURN_IF_ERROR(check_id(options.unk_id, "unk"));
  if (options.add_bos && options.bos_id < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(src, ": add_bos is set but there is no bos token"));
  }
  for (int32_t i = 0; i < n; ++i) {
    if (pieces[i].type == SpmTokenType::kByte &&
        ParseByteToken(pieces[i].text) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(src, ": token ", i, " '", pieces[i].text,
                       "' has type byte but is not of the form <0xNN>"));
    }
    if (static_cast<int32_t>(pieces[i].type) < 0 ||
        static_cast<int32_t>(pieces[i].type) > 6) {
      return absl::InvalidArgumentError(
          absl::StrCat(src, ": token ", i, " has unknown token type ",
                       static_cast<int32_t>(pieces[i].type)));
    }
  }
  return std::unique_ptr<SpmTokenizer>(
      new SpmTokenizer(std::move(pieces), std::move(options)));
}

absl::StatusOr<std::unique_ptr<SpmTokenizer>> SpmTokenizer::FromGguf(
    const GgufFile& gguf) {
  const std::string& path = gguf.path();
  QEFF_ASSIGN_OR_RETURN(std::string model,
                        gguf.GetString("tokenizer.ggml.model"));
  if (model != "llama") {
    return absl::UnimplementedError(
        absl::StrCat(path, ": tokenizer.ggml.model '", model,
                     "' is not supported (only 'llama', SentencePiece BPE)"));
  }
  QEFF_ASSIGN_OR_RETURN(std::vector<std::string> tokens,
                        gguf.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = tokens.size();
  std::vector<float> scores(n, 0.0f);
  if (gguf.Has("tokenizer.ggml.scores")) {
    QEFF_ASSIGN_OR_RETURN(scores, gguf.GetFloatArray("tokenizer.ggml.scores"));
    if (scores.size() != n) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tokenizer.ggml.scores has ", scores.size(),
                       " entries, tokenizer.ggml.tokens has ", n));
    }
  }
  std::vector<int64_t> types;
  if (gguf.Has("tokenizer.ggml.token_type")) {
    QEFF_ASSIGN_OR_RETURN(types, gguf.GetIntArray("tokenizer.ggml.token_type"));
    if (types.size() != n) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tokenizer.ggml.token_type has ", types.size(),
                       " entries, tokenizer.ggml.tokens has ", n));
    }
  }
  SpmOptions opt;
  opt.source = path;
  auto id_or = [&](const char* key, int32_t dflt) -> absl::StatusOr<int32_t> {
    if (!gguf.Has(key)) return dflt;
    QEFF_ASSIGN_OR_RETURN(int64_t v, gguf.GetInt(key));
    // llama.cpp writes -1 as uint32 0xFFFFFFFF for "none".
    if (v < 0 || v >= static_cast<int64_t>(n)) return -1;
    return static_cast<int32_t>(v);
  };
  QEFF_ASSIGN_OR_RETURN(opt.bos_id, id_or("tokenizer.ggml.bos_token_id", 1));
  QEFF_ASSIGN_OR_RETURN(opt.eos_id, id_or("tokenizer.ggml.eos_token_id", 2));
  QEFF_ASSIGN_OR_RETURN(opt.unk_id,
                        id_or("tokenizer.ggml.unknown_token_id", 0));
  if (gguf.Has("tokenizer.ggml.add_bos_token")) {
    QEFF_ASSIGN_OR_RETURN(opt.add_bos,
                          gguf.GetBool("tokenizer.ggml.add_bos_token"));
  }
  if (gguf.Has("tokenizer.ggml.add_space_prefix")) {
    QEFF_ASSIGN_OR_RETURN(opt.add_space_prefix,
                          gguf.GetBool("tokenizer.ggml.add_space_prefix"));
  }
  if (gguf.Has("tokenizer.ggml.add_eos_token")) {
    QEFF_ASSIGN_OR_RETURN(bool add_eos,
                          gguf.GetBool("tokenizer.ggml.add_eos_token"));
    if (add_eos) {
      return absl::UnimplementedError(
          absl::StrCat(path,
                       ": tokenizer.ggml.add_eos_token = true is not "
                       "supported"));
    }
  }
  std::vector<SpmPiece> pieces(n);
  for (size_t i = 0; i < n; ++i) {
    pieces[i].text = std::move(tokens[i]);
    pieces[i].score = scores[i];
    if (!types.empty()) {
      if (types[i] < 0 || types[i] > 6) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": tokenizer.ggml.token_type[", i,
                         "] = ", types[i], " is not a token type"));
      }
      pieces[i].type = static_cast<SpmTokenType>(types[i]);
    } else if (ParseByteToken(pieces[i].text) >= 0) {
      pieces[i].type = SpmTokenType::kByte;
    } else if (static_cast<int32_t>(i) == opt.unk_id) {
      pieces[i].type = SpmTokenType::kUnknown;
    } else if (static_cast<int32_t>(i) == opt.bos_id ||
               static_cast<int32_t>(i) == opt.eos_id) {
      pieces[i].type = SpmTokenType::kControl;
    }
    // As llama.cpp: an empty piece can never match text.
    if (pieces[i].text.empty())
      pieces[i].text = absl::StrCat("[EMPTY_", i, "]");
  }
  return Create(std::move(pieces), std::move(opt));
}

absl::StatusOr<std::unique_ptr<SpmTokenizer>> SpmTokenizer::FromLlama2c(
    const Llama2cVocab& vocab) {
  const size_t n = vocab.tokens.size();
  if (n < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        vocab.path, ": ", n, " tokens; llama2.c needs at least unk/bos/eos"));
  }
  SpmOptions opt;
  opt.source = vocab.path;
  std::vector<SpmPiece> pieces(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = vocab.tokens[i].piece;
    pieces[i].score = vocab.tokens[i].score;
    if (i == 1 && p == "\n<s>\n") {
      pieces[i].text = "<s>";
    } else if (i == 2 && p == "\n</s>\n") {
      pieces[i].text = "</s>";
    } else {
      pieces[i].text = absl::StrReplaceAll(p, {{" ", kSpace}});
    }
    if (i == 0) {
      pieces[i].type = SpmTokenType::kUnknown;
    } else if (i <= 2) {
      pieces[i].type = SpmTokenType::kControl;
    } else if (ParseByteToken(pieces[i].text) >= 0) {
      pieces[i].type = SpmTokenType::kByte;
    }
    if (pieces[i].text.empty())
      pieces[i].text = absl::StrCat("[EMPTY_", i, "]");
  }
  return Create(std::move(pieces), std::move(opt));
}

int32_t SpmTokenizer::Lookup(absl::string_view text) const {
  auto it = piece_to_id_.find(text);
  return it == piece_to_id_.end() ? -1 : it->second;
}

int32_t SpmTokenizer::ByteToken(uint8_t byte) const {
  static const char kHex[] = "0123456789ABCDEF";
  const char buf[6] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
  int32_t id = Lookup(absl::string_view(buf, 6));
  if (id >= 0) return id;
  id = Lookup(absl::string_view(reinterpret_cast<const char*>(&byte), 1));
  if (id >= 0) return id;
  return options_.unk_id;
}

void SpmTokenizer::EncodeSegment(const std::string& text,
                                 std::vector<int32_t>* out) const {
  std::vector<Symbol> symbols;
  size_t offs = 0;
  int index = 0;
  while (offs < text.size()) {
    size_t len = Utf8SequenceLength(static_cast<uint8_t>(text[offs]));
    Symbol sym;
    sym.text = text.data() + offs;
    sym.n = std::min(len == 0 ? 1 : len, text.size() - offs);
    offs += sym.n;
    sym.prev = index - 1;
    sym.next = offs == text.size() ? -1 : index + 1;
    ++index;
    symbols.push_back(sym);
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue;
  auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    absl::string_view s(symbols[left].text, symbols[left].n + symbols[right].n);
    int32_t id = Lookup(s);
    if (id < 0) return;
    queue.push({left, right, pieces_[id].score, s.size()});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[b.left];
    Symbol& r = symbols[b.right];
    // Skip pairs one of whose symbols has changed since.
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  // Every merged symbol is a piece; an unmerged character that is not a
  // piece falls back to bytes (llama.cpp's resegment).
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    int32_t id = Lookup(absl::string_view(s.text, s.n));
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (size_t j = 0; j < s.n; ++j) {
      out->push_back(ByteToken(static_cast<uint8_t>(s.text[j])));
    }
  }
}

absl::StatusOr<std::vector<int32_t>> SpmTokenizer::Encode(
    absl::string_view text, bool add_bos) const {
  size_t bad = FindInvalidUtf8(text);
  if (bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "text to tokenize is not valid UTF-8 at byte ", bad, " (0x",
        absl::Hex(static_cast<uint8_t>(text[bad]), absl::kZeroPad2), ")"));
  }
  std::vector<int32_t> out;
  if (add_bos) {
    if (options_.bos_id < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(options_.source, ": tokenizer has no bos token"));
    }
    out.push_back(options_.bos_id);
  }
  if (text.empty()) return out;
  std::string normalized;
  if (options_.add_space_prefix) normalized = " ";
  normalized.append(text.data(), text.size());
  normalized = absl::StrReplaceAll(normalized, {{" ", kSpace}});
  size_t before = out.size();
  EncodeSegment(normalized, &out);
  for (size_t i = before; i < out.size(); ++i) {
    if (out[i] < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.source,
          ": text needs a byte-fallback token, but the vocabulary has "
          "neither <0xNN> pieces nor an unk token"));
    }
  }
  return out;
}

std::string SpmTokenizer::DecodeToken(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return "";
  const SpmPiece& p = pieces_[id];
  switch (p.type) {
    case SpmTokenType::kNormal:
      return absl::StrReplaceAll(p.text, {{kSpace, " "}});
    case SpmTokenType::kUserDefined:
      return p.text;
    case SpmTokenType::kByte:
      return std::string(1, static_cast<char>(ParseByteToken(p.text)));
    default:  // control, unknown, unused, undefined
      return "";
  }
}

absl::StatusOr<std::string> SpmTokenizer::Decode(
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
  if (!ids.empty() && ids[0] == options_.bos_id && options_.add_space_prefix &&
      !out.empty() && out[0] == ' ') {
    out.erase(0, 1);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerFile(
    const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(auto file, ir::MappedFile::Open(path));
  if (file->size() >= 4 && std::memcmp(file->data(), "GGUF", 4) == 0) {
    QEFF_ASSIGN_OR_RETURN(GgufFile gguf, ParseGguf(file));
    QEFF_ASSIGN_OR_RETURN(auto tok, SpmTokenizer::FromGguf(gguf));
    return std::unique_ptr<Tokenizer>(std::move(tok));
  }
  QEFF_ASSIGN_OR_RETURN(Llama2cVocab vocab, ReadLlama2cTokenizer(path));
  QEFF_ASSIGN_OR_RETURN(auto tok, SpmTokenizer::FromLlama2c(vocab));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace qeff::models
