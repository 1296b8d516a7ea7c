#include "models/bpe_tokenizer.h"

#include <queue>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "models/unicode.h"

namespace qeff::models {
namespace {

constexpr absl::string_view kSpace = "\xe2\x96\x81";  // U+2581

struct Symbol {
  int prev;
  int next;
  const char* text;
  size_t n;
};

struct Bigram {
  int left;
  int right;
  int rank;
  size_t size;
};

// llama.cpp's llm_bigram_bpe::comparator: lowest rank first, then leftmost.
struct BigramGreater {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

}  // namespace

BpeTokenizer::BpeTokenizer(std::vector<VocabToken> tokens, BpeOptions options)
    : tokens_(std::move(tokens)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::Create(
    std::vector<VocabToken> tokens,
    std::vector<std::pair<std::string, std::string>> merges,
    BpeOptions options) {
  const std::string src = options.source;
  const int32_t n = static_cast<int32_t>(tokens.size());
  if (n == 0) {
    return absl::InvalidArgumentError(absl::StrCat(src, ": empty vocabulary"));
  }
  for (auto [id, what] :
       {std::pair<int32_t, const char*>{options.bos_id, "bos"},
        {options.eos_id, "eos"},
        {options.unk_id, "unk"}}) {
    if (id < -1 || id >= n) {
      return absl::InvalidArgumentError(absl::StrCat(
          src, ": ", what, " id ", id, " is outside the vocabulary of ", n));
    }
  }
  if (options.add_bos && options.bos_id < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(src, ": add_bos is set but there is no bos token"));
  }
  if (options.add_eos && options.eos_id < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(src, ": add_eos is set but there is no eos token"));
  }
  if (!options.normalizer.empty()) {
    QEFF_RETURN_IF_ERROR(unicode::ParseNormalForm(options.normalizer).status());
  }
  auto tok = std::unique_ptr<BpeTokenizer>(
      new BpeTokenizer(std::move(tokens), std::move(options)));
  tok->token_to_id_.reserve(n);
  for (int32_t i = 0; i < n; ++i) tok->token_to_id_[tok->tokens_[i].text] = i;
  tok->ranks_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    std::string key = absl::StrCat(merges[i].first, "\xff", merges[i].second);
    tok->ranks_.emplace(std::move(key), static_cast<int32_t>(i));
  }
  QEFF_ASSIGN_OR_RETURN(tok->pre_,
                        PreTokenizer::Create(tok->options_.pre.regexes));
  tok->splitter_ = std::make_unique<SpecialTokenSplitter>(tok->tokens_);
  tok->decoded_.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    const VocabToken& t = tok->tokens_[i];
    std::string& d = tok->decoded_[i];
    if (t.attr & (kAttrControl | kAttrUnknown)) continue;
    if (t.attr & kAttrUserDefined) {
      d = t.text;
    } else if (t.attr & kAttrNormal) {
      if (!tok->options_.pre.byte_encode) {
        d = absl::StrReplaceAll(t.text, {{kSpace, " "}});
      } else {
        for (char32_t cp : unicode::DecodeUtf8(t.text)) {
          int b = unicode::CodepointToByte(cp);
          if (b >= 0) {
            d.push_back(static_cast<char>(b));
          } else {  // llama.cpp's llama_decode_text marks these
            unicode::AppendUtf8(cp, &d);
          }
        }
      }
    } else if (t.attr & kAttrByte) {
      int b = ParseByteToken(t.text);
      if (b >= 0) d = std::string(1, static_cast<char>(b));
    }
  }
  return tok;
}

absl::StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromGguf(
    const GgufFile& gguf) {
  const std::string& path = gguf.path();
  QEFF_ASSIGN_OR_RETURN(std::string model,
                        gguf.GetString("tokenizer.ggml.model"));
  if (model != "gpt2" && model != "gemma4") {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": tokenizer.ggml.model '", model, "' is not a BPE model"));
  }
  std::string pre = "gemma4";
  if (model == "gpt2") {
    pre = "default";
    if (gguf.Has("tokenizer.ggml.pre")) {
      QEFF_ASSIGN_OR_RETURN(pre, gguf.GetString("tokenizer.ggml.pre"));
    }
  }
  BpeOptions opt;
  opt.source = path;
  auto cfg = PreTokenizerConfigFor(pre);
  if (!cfg.ok()) {
    return absl::Status(
        cfg.status().code(),
        absl::StrCat(path, ": tokenizer.ggml.pre: ", cfg.status().message()));
  }
  opt.pre = *std::move(cfg);
  QEFF_ASSIGN_OR_RETURN(std::vector<VocabToken> tokens, ReadGgufVocab(gguf));
  const int32_t n = static_cast<int32_t>(tokens.size());
  if (!gguf.Has("tokenizer.ggml.merges")) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": BPE vocabulary without tokenizer.ggml.merges"));
  }
  QEFF_ASSIGN_OR_RETURN(std::vector<std::string> merge_strs,
                        gguf.GetStringArray("tokenizer.ggml.merges"));
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(merge_strs.size());
  for (size_t i = 0; i < merge_strs.size(); ++i) {
    const std::string& m = merge_strs[i];
    size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (sp == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tokenizer.ggml.merges[", i, "] '", m,
                       "' is not two tokens separated by a space"));
    }
    merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  const bool gemma4 = model == "gemma4";
  QEFF_ASSIGN_OR_RETURN(
      opt.bos_id,
      ReadGgufTokenId(gguf, "bos", opt.pre.bos_is_null || gemma4 ? -1 : 11, n));
  QEFF_ASSIGN_OR_RETURN(opt.eos_id,
                        ReadGgufTokenId(gguf, "eos", gemma4 ? -1 : 11, n));
  QEFF_ASSIGN_OR_RETURN(opt.unk_id, ReadGgufTokenId(gguf, "unknown", -1, n));
  QEFF_ASSIGN_OR_RETURN(
      opt.add_bos,
      ReadGgufBool(gguf, "tokenizer.ggml.add_bos_token", opt.pre.add_bos));
  QEFF_ASSIGN_OR_RETURN(
      opt.add_eos, ReadGgufBool(gguf, "tokenizer.ggml.add_eos_token", false));
  if (gemma4) opt.add_bos = true;  // llama.cpp's Gemma 4 override
  if (opt.add_bos && opt.bos_id < 0) opt.add_bos = false;
  return Create(std::move(tokens), std::move(merges), std::move(opt));
}

int32_t BpeTokenizer::Lookup(absl::string_view text) const {
  auto it = token_to_id_.find(text);
  return it == token_to_id_.end() ? -1 : it->second;
}

int BpeTokenizer::Rank(absl::string_view left, absl::string_view right,
                       std::string* key) const {
  key->assign(left.data(), left.size());
  key->push_back('\xff');
  key->append(right.data(), right.size());
  auto it = ranks_.find(*key);
  return it == ranks_.end() ? -1 : it->second;
}

void BpeTokenizer::EncodeWord(const std::string& word,
                              std::vector<int32_t>* out) const {
  std::vector<Symbol> symbols;
  if (options_.pre.ignore_merges && Lookup(word) >= 0) {
    out->push_back(Lookup(word));
    return;
  }
  size_t offs = 0;
  int index = 0;
  if (options_.pre.name == "gemma4" &&
      word.find_first_not_of('\n') == std::string::npos && Lookup(word) >= 0) {
    symbols.push_back({-1, -1, word.data(), word.size()});
    offs = word.size();
  }
  while (offs < word.size()) {
    size_t len = Utf8SequenceLength(static_cast<uint8_t>(word[offs]));
    Symbol s;
    s.text = word.data() + offs;
    s.n = std::min(len == 0 ? size_t{1} : len, word.size() - offs);
    offs += s.n;
    s.prev = index - 1;
    s.next = offs == word.size() ? -1 : index + 1;
    ++index;
    symbols.push_back(s);
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramGreater> queue;
  std::string key;
  auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    int rank = Rank(absl::string_view(l.text, l.n),
                    absl::string_view(r.text, r.n), &key);
    if (rank < 0) return;
    queue.push({left, right, rank, l.n + r.n});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[b.left];
    Symbol& r = symbols[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (const Symbol& s : symbols) {
    if (s.n == 0) continue;
    absl::string_view text(s.text, s.n);
    int32_t id = Lookup(text);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (char c : text) {
      int32_t b;
      if (options_.pre.byte_encode) {
        b = Lookup(absl::string_view(&c, 1));
      } else {
        static const char kHex[] = "0123456789ABCDEF";
        const uint8_t u = static_cast<uint8_t>(c);
        const char buf[6] = {'<', '0', 'x', kHex[u >> 4], kHex[u & 15], '>'};
        b = Lookup(absl::string_view(buf, 6));
      }
      if (b >= 0) out->push_back(b);
    }
  }
}

absl::StatusOr<std::vector<int32_t>> BpeTokenizer::Encode(
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
  for (const TextFragment& f : splitter_->Split(text, false)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      continue;
    }
    std::string frag(text.substr(f.offset, f.length));
    if (!options_.normalizer.empty()) {
      QEFF_ASSIGN_OR_RETURN(auto form,
                            unicode::ParseNormalForm(options_.normalizer));
      QEFF_ASSIGN_OR_RETURN(frag, unicode::Normalize(frag, form));
    }
    if (!options_.prefix.empty()) frag = options_.prefix + frag;
    if (options_.pre.escape_whitespaces) {
      frag = absl::StrReplaceAll(frag, {{" ", kSpace}});
    }
    for (std::string& word : pre_->Split(frag)) {
      if (options_.pre.byte_encode) word = unicode::ByteEncode(word);
      EncodeWord(word, &out);
    }
  }
  if (add_bos && options_.add_eos) out.push_back(options_.eos_id);
  return out;
}

std::string BpeTokenizer::DecodeToken(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return "";
  return decoded_[id];
}

absl::StatusOr<std::string> BpeTokenizer::Decode(
    absl::Span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::OutOfRangeError(
          absl::StrCat("token id ", id, " is outside the vocabulary [0, ",
                       vocab_size(), ")"));
    }
    out += decoded_[id];
  }
  if (!options_.prefix.empty() && !ids.empty()) {
    const std::string p = absl::StrReplaceAll(options_.prefix, {{kSpace, " "}});
    if (absl::StartsWith(out, p)) out.erase(0, p.size());
  }
  return out;
}

}  // namespace qeff::models
