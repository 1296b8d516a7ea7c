#include "models/hf_tokenizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "models/bpe_tokenizer.h"
#include "models/tokenizer_vocab.h"
#include "models/wordpiece_tokenizer.h"

namespace qeff::models {
namespace {

constexpr absl::string_view kSpace = "\xe2\x96\x81";  // U+2581
// Hugging Face's ByteLevel{use_regex: true} pattern (GPT-2).
constexpr const char* kHfGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!"
    "\\S)|\\s+";

constexpr absl::string_view kSupportedNormalizers =
    "NFC, NFD, NFKC, NFKD, Prepend, Replace(\" \" -> \"\xe2\x96\x81\"), "
    "Sequence of these; BertNormalizer with a WordPiece model";
constexpr absl::string_view kSupportedPreTokenizers =
    "Split{Regex or String, behavior Isolated, invert false}, "
    "ByteLevel{add_prefix_space false}, Digits, Metaspace{split false}, "
    "Sequence of these; BertPreTokenizer with a WordPiece model";

absl::Status Unsupported(const std::string& src, absl::string_view field,
                         absl::string_view what, absl::string_view supported) {
  return absl::UnimplementedError(
      absl::StrCat(src, ": ", field, ": ", what,
                   " is not supported (supported: ", supported, ")"));
}

absl::Status Invalid(const std::string& src, absl::string_view field,
                     absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(src, ": ", field, ": ", what));
}

std::string TypeOf(const base::JsonValue& v) {
  const base::JsonValue* t = v.Find("type");
  return t != nullptr && t->is_string() ? t->string_value() : "";
}

bool BoolOr(const base::JsonValue& obj, absl::string_view key, bool dflt) {
  const base::JsonValue* v = obj.Find(key);
  return v != nullptr && v->is_bool() ? v->bool_value() : dflt;
}

std::string StringOr(const base::JsonValue& obj, absl::string_view key) {
  const base::JsonValue* v = obj.Find(key);
  return v != nullptr && v->is_string() ? v->string_value() : "";
}

// A Sequence's members (key "normalizers"/"pretokenizers"/"processors"),
// flattened; a single non-Sequence component is a list of one; null none.
absl::Status Flatten(const base::JsonValue& v, absl::string_view list_key,
                     const std::string& src, absl::string_view field,
                     std::vector<const base::JsonValue*>* out) {
  if (v.is_null()) return absl::OkStatus();
  if (!v.is_object()) return Invalid(src, field, "is not an object");
  if (TypeOf(v) == "Sequence") {
    const base::JsonValue* list = v.Find(list_key);
    if (list == nullptr || !list->is_array()) {
      return Invalid(src, field,
                     absl::StrCat("Sequence without a '", list_key, "' array"));
    }
    for (const base::JsonValue& item : list->array()) {
      QEFF_RETURN_IF_ERROR(Flatten(item, list_key, src, field, out));
    }
    return absl::OkStatus();
  }
  out->push_back(&v);
  return absl::OkStatus();
}

bool LooksSpecial(absl::string_view t) {
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" ||
         (absl::StartsWith(t, "<|") && absl::EndsWith(t, "|>")) ||
         (absl::StartsWith(t, "<\xef\xbd\x9c") &&
          absl::EndsWith(t, "\xef\xbd\x9c>")) ||
         (absl::StartsWith(t, "<unused") && absl::EndsWith(t, ">"));
}

bool IsByteToken(absl::string_view t) {
  return t.size() == 6 && absl::StartsWith(t, "<0x") && t[5] == '>' &&
         absl::ascii_isxdigit(t[3]) && absl::ascii_isxdigit(t[4]);
}

std::string EscapeRegexLiteral(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// The vocabulary of tokenizer.json: model.vocab plus added_tokens.
struct HfVocab {
  std::vector<VocabToken> tokens;
  absl::flat_hash_map<std::string, int32_t> by_text;
  int32_t Find(absl::string_view text) const {
    auto it = by_text.find(text);
    return it == by_text.end() ? -1 : it->second;
  }
};

absl::StatusOr<HfVocab> ReadVocab(const base::JsonValue& root,
                                  const base::JsonValue& model,
                                  const std::string& src) {
  const base::JsonValue* vocab = model.Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return Invalid(src, "model.vocab", "missing or not an object");
  }
  struct Entry {
    std::string text;
    uint32_t attr = kAttrNormal;
    bool set = false;
  };
  std::vector<Entry> entries;
  auto put = [&](int64_t id, const std::string& text, uint32_t attr, bool added,
                 absl::string_view field) -> absl::Status {
    if (id < 0 || id >= (int64_t{1} << 24)) {
      return Invalid(
          src, field,
          absl::StrCat("token '", text, "' has id ", id, " outside [0, 2^24)"));
    }
    if (static_cast<size_t>(id) >= entries.size()) entries.resize(id + 1);
    Entry& e = entries[id];
    if (e.set && !added) {
      return Invalid(src, field,
                     absl::StrCat("id ", id, " is given to both '", e.text,
                                  "' and '", text, "'"));
    }
    e.text = text;
    e.attr = attr;
    e.set = true;
    return absl::OkStatus();
  };
  for (const auto& [text, idv] : vocab->object()) {
    auto id = idv.AsInt64();
    if (!id.ok()) {
      return Invalid(src, "model.vocab",
                     absl::StrCat("token '", text, "': id is not an integer"));
    }
    QEFF_RETURN_IF_ERROR(put(*id, text, kAttrNormal, false, "model.vocab"));
  }
  if (const base::JsonValue* added = root.Find("added_tokens");
      added != nullptr && !added->is_null()) {
    if (!added->is_array()) {
      return Invalid(src, "added_tokens", "is not an array");
    }
    for (size_t i = 0; i < added->array().size(); ++i) {
      const base::JsonValue& a = added->array()[i];
      const std::string field = absl::StrCat("added_tokens[", i, "]");
      const base::JsonValue* idv = a.Find("id");
      const base::JsonValue* content = a.Find("content");
      if (idv == nullptr || content == nullptr || !content->is_string()) {
        return Invalid(src, field, "needs an integer 'id' and a 'content'");
      }
      auto id = idv->AsInt64();
      if (!id.ok()) return Invalid(src, field, "'id' is not an integer");
      std::string text = content->string_value();
      uint32_t attr;
      if (BoolOr(a, "special", false) || LooksSpecial(text)) {
        attr = kAttrControl;
      } else {
        attr = kAttrUserDefined;
        // llama.cpp's converter: user-defined tokens are pre-normalized.
        text = absl::StrReplaceAll(text, {{kSpace, " "}});
      }
      if (BoolOr(a, "lstrip", false)) attr |= kAttrLstrip;
      if (BoolOr(a, "rstrip", false)) attr |= kAttrRstrip;
      if (BoolOr(a, "single_word", false)) attr |= kAttrSingleWord;
      QEFF_RETURN_IF_ERROR(put(*id, text, attr, true, field));
    }
  }
  if (entries.empty()) return Invalid(src, "model.vocab", "is empty");
  HfVocab v;
  v.tokens.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].set) {
      v.tokens[i].text = absl::StrCat("[PAD", i, "]");
      v.tokens[i].attr = kAttrUnused;
      continue;
    }
    v.tokens[i].text = std::move(entries[i].text);
    v.tokens[i].attr = entries[i].attr;
  }
  const std::string unk = StringOr(model, "unk_token");
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!unk.empty() && v.tokens[i].text == unk) {
      v.tokens[i].attr = kAttrUnknown;
    }
  }
  ApplyLlamaCppAttrFixups(SpecialIds{}, "", &v.tokens);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    v.by_text.emplace(v.tokens[i].text, static_cast<int32_t>(i));
  }
  return v;
}

// Special tokens around a single sequence, from the post-processor.
struct Template {
  std::vector<int32_t> before, after;
};

absl::StatusOr<int32_t> TemplateTokenId(const base::JsonValue& proc,
                                        const std::string& name,
                                        const HfVocab& vocab,
                                        const std::string& src) {
  const base::JsonValue* specials = proc.Find("special_tokens");
  if (specials != nullptr) {
    if (const base::JsonValue* s = specials->Find(name)) {
      const base::JsonValue* ids = s->Find("ids");
      if (ids != nullptr && ids->is_array() && ids->array().size() == 1) {
        QEFF_ASSIGN_OR_RETURN(int64_t id, ids->array()[0].AsInt64());
        if (id >= 0 && id < static_cast<int64_t>(vocab.tokens.size())) {
          return static_cast<int32_t>(id);
        }
      }
    }
  }
  int32_t id = vocab.Find(name);
  if (id < 0) {
    return Invalid(src, "post_processor",
                   absl::StrCat("special token '", name,
                                "' is not in the "
                                "vocabulary"));
  }
  return id;
}

absl::StatusOr<Template> ReadTemplate(const base::JsonValue& root,
                                      const HfVocab& vocab,
                                      const std::string& src) {
  Template t;
  const base::JsonValue* pp = root.Find("post_processor");
  if (pp == nullptr) return t;
  std::vector<const base::JsonValue*> procs;
  QEFF_RETURN_IF_ERROR(
      Flatten(*pp, "processors", src, "post_processor", &procs));
  for (const base::JsonValue* p : procs) {
    const std::string type = TypeOf(*p);
    if (type == "ByteLevel") continue;  // offsets only
    if (type == "TemplateProcessing") {
      const base::JsonValue* single = p->Find("single");
      if (single == nullptr || !single->is_array()) {
        return Invalid(src, "post_processor.single", "missing");
      }
      bool seen_a = false;
      for (const base::JsonValue& piece : single->array()) {
        if (piece.Find("Sequence") != nullptr) {
          seen_a = true;
          continue;
        }
        const base::JsonValue* st = piece.Find("SpecialToken");
        if (st == nullptr) {
          return Invalid(src, "post_processor.single",
                         "items must be Sequence or SpecialToken");
        }
        const std::string name = StringOr(*st, "id");
        QEFF_ASSIGN_OR_RETURN(int32_t id,
                              TemplateTokenId(*p, name, vocab, src));
        (seen_a ? t.after : t.before).push_back(id);
      }
      continue;
    }
    if (type == "BertProcessing" || type == "RobertaProcessing") {
      const base::JsonValue* cls = p->Find("cls");
      const base::JsonValue* sep = p->Find("sep");
      if (cls == nullptr || sep == nullptr || !cls->is_array() ||
          !sep->is_array() || cls->array().size() != 2 ||
          sep->array().size() != 2) {
        return Invalid(src, "post_processor",
                       absl::StrCat(type, " needs cls and sep [text, id]"));
      }
      QEFF_ASSIGN_OR_RETURN(int64_t c, cls->array()[1].AsInt64());
      QEFF_ASSIGN_OR_RETURN(int64_t s, sep->array()[1].AsInt64());
      t.before = {static_cast<int32_t>(c)};
      t.after = {static_cast<int32_t>(s)};
      continue;
    }
    return Unsupported(src, "post_processor", absl::StrCat("type '", type, "'"),
                       "TemplateProcessing, BertProcessing, "
                       "RobertaProcessing, ByteLevel, Sequence");
  }
  if (t.before.size() > 1 || t.after.size() > 1) {
    return Unsupported(src, "post_processor.single",
                       "more than one special token on a side",
                       "at most one before and one after $A");
  }
  return t;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> MakeWordPiece(
    const base::JsonValue& root, const base::JsonValue& model, HfVocab vocab,
    const Template& tmpl, const std::string& src) {
  WordPieceOptions opt;
  opt.source = src;
  const std::string prefix = model.Find("continuing_subword_prefix") != nullptr
                                 ? StringOr(model, "continuing_subword_prefix")
                                 : "##";
  if (prefix.empty()) {
    return Unsupported(src, "model.continuing_subword_prefix", "''", "'##'");
  }
  std::vector<const base::JsonValue*> norms, pres;
  if (const base::JsonValue* n = root.Find("normalizer")) {
    QEFF_RETURN_IF_ERROR(Flatten(*n, "normalizers", src, "normalizer", &norms));
  }
  if (const base::JsonValue* p = root.Find("pre_tokenizer")) {
    QEFF_RETURN_IF_ERROR(
        Flatten(*p, "pretokenizers", src, "pre_tokenizer", &pres));
  }
  if (norms.size() != 1 || TypeOf(*norms[0]) != "BertNormalizer") {
    return Unsupported(src, "normalizer",
                       norms.empty()
                           ? std::string("none")
                           : absl::StrCat("'", TypeOf(*norms[0]), "'"),
                       "BertNormalizer with a WordPiece model");
  }
  const base::JsonValue& bn = *norms[0];
  if (!BoolOr(bn, "clean_text", true) ||
      !BoolOr(bn, "handle_chinese_chars", true)) {
    return Unsupported(src, "normalizer",
                       "BertNormalizer with clean_text or "
                       "handle_chinese_chars false",
                       "both true");
  }
  opt.lowercase = BoolOr(bn, "lowercase", true);
  const base::JsonValue* sa = bn.Find("strip_accents");
  opt.strip_accents = sa == nullptr || sa->is_null()
                          ? opt.lowercase
                          : BoolOr(bn, "strip_accents", false);
  if (pres.size() != 1 || TypeOf(*pres[0]) != "BertPreTokenizer") {
    return Unsupported(src, "pre_tokenizer",
                       pres.empty() ? std::string("none")
                                    : absl::StrCat("'", TypeOf(*pres[0]), "'"),
                       "BertPreTokenizer with a WordPiece model");
  }
  // llama.cpp's spelling (convert_hf_to_gguf.py, BertModel phantom()).
  for (VocabToken& t : vocab.tokens) {
    if (t.attr & (kAttrControl | kAttrUnused | kAttrUnknown)) continue;
    if (absl::StartsWith(t.text, prefix)) {
      t.text.erase(0, prefix.size());
    } else {
      t.text = absl::StrCat(kSpace, t.text);
    }
  }
  const std::string unk = StringOr(model, "unk_token");
  opt.unk_id = vocab.Find(unk.empty() ? "[UNK]" : unk);
  if (opt.unk_id < 0) {
    return Invalid(src, "model.unk_token",
                   absl::StrCat("'", unk, "' is not in the vocabulary"));
  }
  if (tmpl.before.size() != 1 || tmpl.after.size() != 1) {
    return Unsupported(src, "post_processor",
                       "a WordPiece template without [CLS] $A [SEP]",
                       "TemplateProcessing or BertProcessing with one token "
                       "on each side");
  }
  opt.cls_id = tmpl.before[0];
  opt.sep_id = tmpl.after[0];
  QEFF_ASSIGN_OR_RETURN(auto t, WordPieceTokenizer::Create(
                                    std::move(vocab.tokens), std::move(opt)));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

absl::Status ReadBpeNormalizer(const base::JsonValue& root,
                               const std::string& src, BpeOptions* opt) {
  const base::JsonValue* n = root.Find("normalizer");
  if (n == nullptr) return absl::OkStatus();
  std::vector<const base::JsonValue*> norms;
  QEFF_RETURN_IF_ERROR(Flatten(*n, "normalizers", src, "normalizer", &norms));
  for (const base::JsonValue* nv : norms) {
    const std::string type = TypeOf(*nv);
    if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
      if (!opt->normalizer.empty() || !opt->prefix.empty() ||
          opt->pre.escape_whitespaces) {
        return Unsupported(src, "normalizer",
                           absl::StrCat(type, " after another normalizer"),
                           "one Unicode normal form, first");
      }
      opt->normalizer = type;
    } else if (type == "Prepend") {
      if (!opt->prefix.empty()) {
        return Unsupported(src, "normalizer", "two Prepend", "one");
      }
      opt->prefix = StringOr(*nv, "prepend");
    } else if (type == "Replace") {
      const base::JsonValue* pat = nv->Find("pattern");
      const base::JsonValue* str =
          pat != nullptr ? pat->Find("String") : nullptr;
      if (str == nullptr || !str->is_string() || str->string_value() != " " ||
          StringOr(*nv, "content") != kSpace) {
        return Unsupported(src, "normalizer",
                           "a Replace other than \" \" -> \"\xe2\x96\x81\"",
                           kSupportedNormalizers);
      }
      opt->pre.escape_whitespaces = true;
    } else {
      return Unsupported(src, "normalizer", absl::StrCat("type '", type, "'"),
                         kSupportedNormalizers);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadBpePreTokenizer(const base::JsonValue& root,
                                 const HfVocab& vocab, const std::string& src,
                                 BpeOptions* opt) {
  const base::JsonValue* p = root.Find("pre_tokenizer");
  if (p == nullptr) return absl::OkStatus();
  std::vector<const base::JsonValue*> pres;
  QEFF_RETURN_IF_ERROR(
      Flatten(*p, "pretokenizers", src, "pre_tokenizer", &pres));
  for (const base::JsonValue* pv : pres) {
    const std::string type = TypeOf(*pv);
    if (type == "Split") {
      if (StringOr(*pv, "behavior") != "Isolated" ||
          BoolOr(*pv, "invert", false)) {
        return Unsupported(
            src, "pre_tokenizer",
            absl::StrCat("Split with behavior '", StringOr(*pv, "behavior"),
                         "'", BoolOr(*pv, "invert", false) ? " inverted" : ""),
            kSupportedPreTokenizers);
      }
      const base::JsonValue* pat = pv->Find("pattern");
      const base::JsonValue* re = pat != nullptr ? pat->Find("Regex") : nullptr;
      const base::JsonValue* str =
          pat != nullptr ? pat->Find("String") : nullptr;
      if (re != nullptr && re->is_string()) {
        opt->pre.regexes.push_back(
            ExpandCaseInsensitiveGroups(re->string_value()));
      } else if (str != nullptr && str->is_string()) {
        opt->pre.regexes.push_back(EscapeRegexLiteral(str->string_value()));
      } else {
        return Invalid(src, "pre_tokenizer",
                       "Split needs a pattern {Regex} or {String}");
      }
    } else if (type == "ByteLevel") {
      if (BoolOr(*pv, "add_prefix_space", false)) {
        return Unsupported(src, "pre_tokenizer",
                           "ByteLevel with add_prefix_space true",
                           kSupportedPreTokenizers);
      }
      if (BoolOr(*pv, "use_regex", true)) {
        opt->pre.regexes.push_back(kHfGpt2Regex);
      }
      opt->pre.byte_encode = true;
    } else if (type == "Digits") {
      opt->pre.regexes.push_back(
          BoolOr(*pv, "individual_digits", false) ? "\\p{N}" : "\\p{N}+");
    } else if (type == "Metaspace") {
      if (BoolOr(*pv, "split", true) ||
          StringOr(*pv, "replacement") != kSpace) {
        return Unsupported(src, "pre_tokenizer",
                           "Metaspace that splits or replaces with another "
                           "character",
                           kSupportedPreTokenizers);
      }
      std::string scheme = StringOr(*pv, "prepend_scheme");
      if (scheme.empty()) {
        scheme = BoolOr(*pv, "add_prefix_space", true) ? "always" : "never";
      }
      if (scheme == "first") {
        // "first" and "always" differ only after a token split out of the
        // text, i.e. a user-defined added token.
        for (const VocabToken& t : vocab.tokens) {
          if (t.attr & kAttrUserDefined) {
            return Unsupported(src, "pre_tokenizer",
                               "Metaspace prepend_scheme 'first' with "
                               "non-special added tokens",
                               "'always', 'never', or 'first' without them");
          }
        }
        scheme = "always";
      }
      if (scheme == "always") {
        opt->prefix = std::string(kSpace);
      } else if (scheme != "never") {
        return Invalid(src, "pre_tokenizer",
                       absl::StrCat("Metaspace prepend_scheme '", scheme, "'"));
      }
      opt->pre.escape_whitespaces = true;
    } else {
      return Unsupported(src, "pre_tokenizer",
                         absl::StrCat("type '", type, "'"),
                         kSupportedPreTokenizers);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadMerges(
    const base::JsonValue& model, const std::string& src) {
  std::vector<std::pair<std::string, std::string>> merges;
  const base::JsonValue* m = model.Find("merges");
  if (m == nullptr || m->is_null()) return merges;
  if (!m->is_array()) return Invalid(src, "model.merges", "is not an array");
  merges.reserve(m->array().size());
  for (size_t i = 0; i < m->array().size(); ++i) {
    const base::JsonValue& e = m->array()[i];
    if (e.is_string()) {
      const std::string& s = e.string_value();
      size_t sp = s.size() > 1 ? s.find(' ', 1) : std::string::npos;
      if (sp == std::string::npos) {
        return Invalid(src, absl::StrCat("model.merges[", i, "]"),
                       absl::StrCat("'", s,
                                    "' is not two tokens separated by a "
                                    "space"));
      }
      merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (e.is_array() && e.array().size() == 2 &&
               e.array()[0].is_string() && e.array()[1].is_string()) {
      merges.emplace_back(e.array()[0].string_value(),
                          e.array()[1].string_value());
    } else {
      return Invalid(src, absl::StrCat("model.merges[", i, "]"),
                     "is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return merges;
}

// A BpeTokenizer with a word-boundary prefix (Llama-2 style), decoding as
// Tokenizer::Decode documents (and SpmTokenizer does): the prefix's space
// is dropped only when the ids start with BOS, so generated continuations
// keep their leading space.
class PrefixedBpeTokenizer : public Tokenizer {
 public:
  explicit PrefixedBpeTokenizer(std::unique_ptr<BpeTokenizer> bpe)
      : bpe_(std::move(bpe)),
        prefix_(absl::StrReplaceAll(bpe_->options().prefix, {{kSpace, " "}})) {}
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_bos) const override {
    return bpe_->Encode(text, add_bos);
  }
  std::string DecodeToken(int32_t id) const override {
    return bpe_->DecodeToken(id);
  }
  absl::StatusOr<std::string> Decode(
      absl::Span<const int32_t> ids) const override {
    std::string out;
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size()) {
        return absl::OutOfRangeError(
            absl::StrCat("token id ", id, " is outside the vocabulary [0, ",
                         vocab_size(), ")"));
      }
      out += bpe_->DecodeToken(id);
    }
    if (!ids.empty() && ids[0] == bos_id() && absl::StartsWith(out, prefix_)) {
      out.erase(0, prefix_.size());
    }
    return out;
  }
  int32_t bos_id() const override { return bpe_->bos_id(); }
  int32_t eos_id() const override { return bpe_->eos_id(); }
  int32_t vocab_size() const override { return bpe_->vocab_size(); }
  bool add_bos_by_default() const override {
    return bpe_->add_bos_by_default();
  }

 private:
  std::unique_ptr<BpeTokenizer> bpe_;
  std::string prefix_;
};

absl::StatusOr<std::unique_ptr<Tokenizer>> MakeBpe(
    const base::JsonValue& root, const base::JsonValue& model, HfVocab vocab,
    const Template& tmpl, const TokenizerConfig* config,
    const std::string& src) {
  if (const base::JsonValue* d = model.Find("dropout");
      d != nullptr && !d->is_null()) {
    if (!d->is_number())
      return Invalid(src, "model.dropout", "is neither a number nor null");
    if (d->number() != 0)
      return Unsupported(src, "model.dropout", "a non-zero dropout", "null");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!StringOr(model, key).empty()) {
      return Unsupported(src, absl::StrCat("model.", key), "a non-empty value",
                         "null or \"\"");
    }
  }
  BpeOptions opt;
  opt.source = src;
  opt.pre.name = "tokenizer.json";
  opt.pre.byte_encode = false;
  opt.pre.escape_whitespaces = false;
  opt.pre.ignore_merges = BoolOr(model, "ignore_merges", false);
  QEFF_RETURN_IF_ERROR(ReadBpeNormalizer(root, src, &opt));
  QEFF_RETURN_IF_ERROR(ReadBpePreTokenizer(root, vocab, src, &opt));
  const bool byte_fallback = BoolOr(model, "byte_fallback", false);
  if (!opt.pre.byte_encode) {
    if (!byte_fallback) {
      return Unsupported(src, "model",
                         "BPE with neither a ByteLevel pre-tokenizer nor "
                         "byte_fallback",
                         "byte-level BPE, or BPE with byte_fallback true");
    }
    for (VocabToken& t : vocab.tokens) {
      if ((t.attr & kAttrNormal) && IsByteToken(t.text)) t.attr = kAttrByte;
    }
  }
  QEFF_ASSIGN_OR_RETURN(auto merges, ReadMerges(model, src));
  const std::string unk = StringOr(model, "unk_token");
  opt.unk_id = unk.empty() ? -1 : vocab.Find(unk);
  if (!tmpl.before.empty()) opt.bos_id = tmpl.before[0];
  if (!tmpl.after.empty()) opt.eos_id = tmpl.after[0];
  opt.add_bos = !tmpl.before.empty();
  opt.add_eos = !tmpl.after.empty();
  if (config != nullptr) {
    if (opt.bos_id < 0 && !config->bos_token.empty()) {
      opt.bos_id = vocab.Find(config->bos_token);
    }
    if (!config->eos_token.empty() && !opt.add_eos) {
      opt.eos_id = vocab.Find(config->eos_token);
    }
    if (config->add_bos_token.has_value()) opt.add_bos = *config->add_bos_token;
    if (config->add_eos_token.has_value()) opt.add_eos = *config->add_eos_token;
  }
  if (opt.add_bos && opt.bos_id < 0) {
    return Invalid(src, "tokenizer_config.json add_bos_token",
                   "is true but no bos token is known");
  }
  if (opt.add_eos && opt.eos_id < 0) {
    return Invalid(src, "tokenizer_config.json add_eos_token",
                   "is true but no eos token is known");
  }
  const bool prefixed = !opt.prefix.empty();
  QEFF_ASSIGN_OR_RETURN(
      auto t, BpeTokenizer::Create(std::move(vocab.tokens), std::move(merges),
                                   std::move(opt)));
  if (prefixed) {
    return std::unique_ptr<Tokenizer>(new PrefixedBpeTokenizer(std::move(t)));
  }
  return std::unique_ptr<Tokenizer>(std::move(t));
}

bool IsFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string ExpandCaseInsensitiveGroups(absl::string_view re) {
  std::string out;
  int depth = 0;      // parenthesis depth
  int ci_depth = -1;  // depth of the innermost (?i: group, -1 none
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      out += c;
      out += re[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < re.size() && re[i + 1] == '^') out += re[++i];
      if (i + 1 < re.size() && re[i + 1] == ']') out += re[++i];
      continue;
    }
    if (c == '(') {
      ++depth;
      if (re.substr(i, 4) == "(?i:" && ci_depth < 0) {
        ci_depth = depth;
        out += "(?:";
        i += 3;
        continue;
      }
      out += c;
      continue;
    }
    if (c == ')') {
      if (depth == ci_depth) ci_depth = -1;
      --depth;
      out += c;
      continue;
    }
    if (ci_depth >= 0 && absl::ascii_isalpha(c)) {
      out += '[';
      out += absl::ascii_tolower(c);
      out += absl::ascii_toupper(c);
      out += ']';
      continue;
    }
    out += c;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromHfJson(
    const base::JsonValue& root, const TokenizerConfig* config,
    const std::string& src) {
  if (!root.is_object()) return Invalid(src, "(top level)", "not an object");
  const base::JsonValue* model = root.Find("model");
  if (model == nullptr || !model->is_object()) {
    return Invalid(src, "model", "missing or not an object");
  }
  std::string type = TypeOf(*model);
  if (type.empty() && model->Find("merges") != nullptr) type = "BPE";
  if (type != "BPE" && type != "WordPiece") {
    return Unsupported(src, "model.type", absl::StrCat("'", type, "'"),
                       "BPE, WordPiece");
  }
  QEFF_ASSIGN_OR_RETURN(HfVocab vocab, ReadVocab(root, *model, src));
  QEFF_ASSIGN_OR_RETURN(Template tmpl, ReadTemplate(root, vocab, src));
  if (type == "WordPiece") {
    return MakeWordPiece(root, *model, std::move(vocab), tmpl, src);
  }
  return MakeBpe(root, *model, std::move(vocab), tmpl, config, src);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizer(
    const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(base::JsonValue root, ReadJsonFile(path));
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string cfg_path = dir + "/tokenizer_config.json";
  std::optional<TokenizerConfig> cfg;
  if (IsFile(cfg_path)) {
    QEFF_ASSIGN_OR_RETURN(base::JsonValue cj, ReadJsonFile(cfg_path));
    QEFF_ASSIGN_OR_RETURN(cfg, ParseTokenizerConfig(cj, cfg_path));
  }
  return TokenizerFromHfJson(root, cfg.has_value() ? &*cfg : nullptr, path);
}

}  // namespace qeff::models
