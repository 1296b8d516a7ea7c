#include "models/hf_tokenizer_writer.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "models/pretokenize.h"
#include "models/tokenizer_vocab.h"
#include "models/unicode.h"

namespace qeff::models {
namespace {

constexpr absl::string_view kSpace = "\xe2\x96\x81";  // U+2581
// Hugging Face's Split regexes (as in Meta-Llama-3's and Qwen2's files).
constexpr const char* kLlama3Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4,
                  kUnused = 5;

std::string Q(absl::string_view s) { return base::JsonQuote(s); }

std::string ByteLevel(bool use_regex) {
  return absl::StrCat(
      "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
      "\"trim_offsets\": true, \"use_regex\": ",
      use_regex ? "true" : "false", "}");
}

std::string Split(const char* regex) {
  return absl::StrCat(
      "{\"type\": \"Split\", \"pattern\": {\"Regex\": ", Q(regex),
      "}, \"behavior\": \"Isolated\", \"invert\": false}");
}

std::string Template(const HfVocabSource& v, bool bos, bool eos) {
  std::vector<std::string> single, specials;
  auto special = [&](int32_t id) {
    const std::string& t = v.tokens[id];
    specials.push_back(absl::StrCat(Q(t), ": {\"id\": ", Q(t), ", \"ids\": [",
                                    id, "], \"tokens\": [", Q(t), "]}"));
    return absl::StrCat("{\"SpecialToken\": {\"id\": ", Q(t),
                        ", \"type_id\": 0}}");
  };
  if (bos) single.push_back(special(v.bos_id));
  single.push_back("{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}");
  if (eos) single.push_back(special(v.eos_id));
  return absl::StrCat("{\"type\": \"TemplateProcessing\", \"single\": [",
                      absl::StrJoin(single, ", "),
                      "], \"pair\": [], \"special_tokens\": {",
                      absl::StrJoin(specials, ", "), "}}");
}

// transformers' SentencePieceExtractor.extract(vocab_scores).
std::vector<std::pair<std::string, std::string>> ExtractSpmMerges(
    const HfVocabSource& v, const std::vector<int32_t>& in_vocab) {
  absl::flat_hash_map<std::string, int32_t> id;
  for (int32_t i : in_vocab) id.emplace(v.tokens[i], i);
  struct M {
    int32_t l, r;
    float score;
  };
  std::vector<M> merges;
  for (int32_t i : in_vocab) {
    const std::string& piece = v.tokens[i];
    const std::vector<char32_t> cps = unicode::DecodeUtf8(piece);
    std::vector<M> local;
    size_t off = 0;
    for (size_t k = 0; k + 1 < cps.size(); ++k) {
      std::string c;
      unicode::AppendUtf8(cps[k], &c);
      off += c.size();
      auto l = id.find(piece.substr(0, off));
      auto r = id.find(piece.substr(off));
      if (l != id.end() && r != id.end()) {
        local.push_back({l->second, r->second, v.scores[i]});
      }
    }
    std::sort(local.begin(), local.end(), [](const M& a, const M& b) {
      return a.l != b.l ? a.l < b.l : a.r < b.r;
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const M& a, const M& b) { return a.score > b.score; });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (const M& m : merges) out.emplace_back(v.tokens[m.l], v.tokens[m.r]);
  return out;
}

}  // namespace

absl::StatusOr<HfVocabSource> HfVocabSourceFromGguf(const GgufFile& g) {
  HfVocabSource v;
  QEFF_ASSIGN_OR_RETURN(v.model, g.GetString("tokenizer.ggml.model"));
  QEFF_ASSIGN_OR_RETURN(v.tokens, g.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = v.tokens.size();
  const int32_t nt = static_cast<int32_t>(n);
  if (g.Has("tokenizer.ggml.pre")) {
    QEFF_ASSIGN_OR_RETURN(v.pre, g.GetString("tokenizer.ggml.pre"));
  }
  v.scores.assign(n, 0.0f);
  if (g.Has("tokenizer.ggml.scores")) {
    QEFF_ASSIGN_OR_RETURN(v.scores, g.GetFloatArray("tokenizer.ggml.scores"));
  }
  v.types.assign(n, kNormal);
  if (g.Has("tokenizer.ggml.token_type")) {
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> t,
                          g.GetIntArray("tokenizer.ggml.token_type"));
    for (size_t i = 0; i < n && i < t.size(); ++i) {
      v.types[i] = static_cast<int32_t>(t[i]);
    }
  }
  if (v.scores.size() < n || v.types.size() < n) {
    return absl::InvalidArgumentError(
        absl::StrCat(g.path(), ": scores/token_type shorter than tokens"));
  }
  if (g.Has("tokenizer.ggml.merges")) {
    QEFF_ASSIGN_OR_RETURN(v.merges, g.GetStringArray("tokenizer.ggml.merges"));
  }
  const bool bert = v.model == "bert";
  QEFF_ASSIGN_OR_RETURN(
      v.bos_id,
      ReadGgufTokenId(
          g, bert && g.Has("tokenizer.ggml.cls_token_id") ? "cls" : "bos",
          bert ? 101 : -1, nt));
  QEFF_ASSIGN_OR_RETURN(v.eos_id, ReadGgufTokenId(g, bert ? "seperator" : "eos",
                                                  bert ? 102 : -1, nt));
  QEFF_ASSIGN_OR_RETURN(v.unk_id, ReadGgufTokenId(g, "unknown", -1, nt));
  // llama.cpp's default when the key is absent: on for SentencePiece, the
  // pre-tokenizer type's default for BPE (e.g. llama3).
  bool add_bos_default = v.model == "llama";
  if (v.model == "gpt2") {
    auto pre = PreTokenizerConfigFor(v.pre);
    if (pre.ok()) add_bos_default = pre->add_bos;
  }
  QEFF_ASSIGN_OR_RETURN(
      v.add_bos,
      ReadGgufBool(g, "tokenizer.ggml.add_bos_token", add_bos_default));
  QEFF_ASSIGN_OR_RETURN(v.add_eos,
                        ReadGgufBool(g, "tokenizer.ggml.add_eos_token", false));
  QEFF_ASSIGN_OR_RETURN(
      v.add_space_prefix,
      ReadGgufBool(g, "tokenizer.ggml.add_space_prefix", true));
  QEFF_ASSIGN_OR_RETURN(
      v.lowercase,
      ReadGgufBool(g, "tokenizer.ggml.normalizer.lowercase", true));
  return v;
}

absl::StatusOr<HfTokenizerFiles> MakeHfTokenizerFiles(const HfVocabSource& v) {
  const int32_t n = static_cast<int32_t>(v.tokens.size());
  if (v.scores.size() != v.tokens.size() || v.types.size() != v.tokens.size()) {
    return absl::InvalidArgumentError(
        "HfVocabSource: tokens, scores and types differ in length");
  }
  for (int32_t id : {v.bos_id, v.eos_id, v.unk_id}) {
    if (id >= n) {
      return absl::InvalidArgumentError(
          absl::StrCat("HfVocabSource: special id ", id, " >= ", n));
    }
  }
  const bool spm = v.model == "llama", bpe = v.model == "gpt2",
             bert = v.model == "bert";
  if (!spm && !bpe && !bert) {
    return absl::UnimplementedError(
        absl::StrCat("tokenizer.json writer: tokenizer model '", v.model,
                     "' is not supported (supported: llama, gpt2, bert)"));
  }
  // Which ids go to model.vocab and which to added_tokens.
  std::vector<int32_t> in_vocab;
  std::vector<std::string> added;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t t = v.types[i];
    if (t == kUnused) continue;
    const bool special = t == kControl || t == kUnknown;
    if (special || t == kUserDefined) {
      added.push_back(absl::StrCat(
          "{\"id\": ", i, ", \"content\": ", Q(v.tokens[i]),
          ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
          "\"normalized\": ",
          special ? "false" : "true",
          ", \"special\": ", special ? "true" : "false", "}"));
      // Llama-2 and BERT files keep their specials in the model vocab too;
      // byte-level files (Llama-3, Qwen2) do not.
      if (bpe || t == kUserDefined) continue;
    }
    in_vocab.push_back(i);
  }
  std::string normalizer = "null", pre = "null", post = "null",
              decoder = "null", model;
  std::vector<std::string> vocab_items;
  vocab_items.reserve(in_vocab.size());
  for (int32_t i : in_vocab) {
    std::string text = v.tokens[i];
    if (bert && v.types[i] == kNormal) {
      text = absl::StartsWith(text, kSpace) ? text.substr(kSpace.size())
                                            : absl::StrCat("##", text);
    }
    vocab_items.push_back(absl::StrCat(Q(text), ": ", i));
  }
  const std::string vocab_json =
      absl::StrCat("{", absl::StrJoin(vocab_items, ", "), "}");
  auto merges_json =
      [](const std::vector<std::pair<std::string, std::string>>& m) {
        std::vector<std::string> items;
        items.reserve(m.size());
        for (const auto& [l, r] : m) {
          items.push_back(absl::StrContains(l, ' ') || absl::StrContains(r, ' ')
                              ? absl::StrCat("[", Q(l), ", ", Q(r), "]")
                              : Q(absl::StrCat(l, " ", r)));
        }
        return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
      };
  const bool add_bos = v.add_bos && v.bos_id >= 0;
  const bool add_eos = v.add_eos && v.eos_id >= 0;
  if (spm) {
    if (v.unk_id < 0) {
      return absl::InvalidArgumentError("HfVocabSource: llama needs unk_id");
    }
    normalizer = absl::StrCat(
        "{\"type\": \"Sequence\", \"normalizers\": [",
        v.add_space_prefix
            ? absl::StrCat("{\"type\": \"Prepend\", \"prepend\": ", Q(kSpace),
                           "}, ")
            : "",
        "{\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, "
        "\"content\": ",
        Q(kSpace), "}]}");
    post = Template(v, add_bos, add_eos);
    decoder = absl::StrCat(
        "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", "
        "\"pattern\": {\"String\": ",
        Q(kSpace),
        "}, \"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": "
        "\"Fuse\"}, {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, "
        "\"stop\": 0}]}");
    model = absl::StrCat(
        "{\"type\": \"BPE\", \"dropout\": null, \"unk_token\": ",
        Q(v.tokens[v.unk_id]),
        ", \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
        "\"fuse_unk\": true, \"byte_fallback\": true, \"ignore_merges\": "
        "false, \"vocab\": ",
        vocab_json,
        ", \"merges\": ", merges_json(ExtractSpmMerges(v, in_vocab)), "}");
  } else if (bpe) {
    bool ignore_merges = false;
    if (v.pre == "gpt-2" || v.pre == "mpt") {
      pre = ByteLevel(true);
    } else if (v.pre == "llama-bpe" || v.pre == "llama3") {
      pre = absl::StrCat("{\"type\": \"Sequence\", \"pretokenizers\": [",
                         Split(kLlama3Split), ", ", ByteLevel(false), "]}");
      ignore_merges = true;
    } else if (v.pre == "qwen2") {
      normalizer = "{\"type\": \"NFC\"}";
      pre = absl::StrCat("{\"type\": \"Sequence\", \"pretokenizers\": [",
                         Split(kQwen2Split), ", ", ByteLevel(false), "]}");
    } else if (v.pre == "starcoder" || v.pre == "refact") {
      pre = absl::StrCat(
          "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": "
          "\"Digits\", \"individual_digits\": true}, ",
          ByteLevel(true), "]}");
    } else {
      return absl::UnimplementedError(absl::StrCat(
          "tokenizer.json writer: pre-tokenizer '", v.pre,
          "' is not supported (supported: gpt-2, mpt, llama-bpe, llama3, "
          "qwen2, starcoder, refact)"));
    }
    post = add_bos || add_eos
               ? absl::StrCat(
                     "{\"type\": \"Sequence\", \"processors\": [{\"type\": "
                     "\"ByteLevel\", \"add_prefix_space\": true, "
                     "\"trim_offsets\": false, \"use_regex\": true}, ",
                     Template(v, add_bos, add_eos), "]}")
               : "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                 "\"trim_offsets\": false, \"use_regex\": true}";
    decoder = ByteLevel(true);
    std::vector<std::pair<std::string, std::string>> merges;
    for (const std::string& m : v.merges) {
      size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
      if (sp == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("HfVocabSource: merge '", m, "' has no space"));
      }
      merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
    model = absl::StrCat(
        "{\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "
        "\"continuing_subword_prefix\": \"\", \"end_of_word_suffix\": \"\", "
        "\"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": ",
        ignore_merges ? "true" : "false", ", \"vocab\": ", vocab_json,
        ", \"merges\": ", merges_json(merges), "}");
  } else {  // bert
    if (v.unk_id < 0 || v.bos_id < 0 || v.eos_id < 0) {
      return absl::InvalidArgumentError(
          "HfVocabSource: bert needs unk, cls and sep ids");
    }
    normalizer = absl::StrCat(
        "{\"type\": \"BertNormalizer\", \"clean_text\": true, "
        "\"handle_chinese_chars\": true, \"strip_accents\": null, "
        "\"lowercase\": ",
        v.lowercase ? "true" : "false", "}");
    pre = "{\"type\": \"BertPreTokenizer\"}";
    post = Template(v, true, true);
    decoder =
        "{\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true}";
    model = absl::StrCat(
        "{\"type\": \"WordPiece\", \"unk_token\": ", Q(v.tokens[v.unk_id]),
        ", \"continuing_subword_prefix\": \"##\", "
        "\"max_input_chars_per_word\": 100, \"vocab\": ",
        vocab_json, "}");
  }
  HfTokenizerFiles f;
  f.tokenizer_json = absl::StrCat(
      "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": "
      "null,\n  \"added_tokens\": [\n    ",
      absl::StrJoin(added, ",\n    "), "\n  ],\n  \"normalizer\": ", normalizer,
      ",\n  \"pre_tokenizer\": ", pre, ",\n  \"post_processor\": ", post,
      ",\n  \"decoder\": ", decoder, ",\n  \"model\": ", model, "\n}\n");
  std::vector<std::string> cfg;
  if (!bert) {
    cfg.push_back(
        absl::StrCat("\"add_bos_token\": ", add_bos ? "true" : "false"));
    cfg.push_back(
        absl::StrCat("\"add_eos_token\": ", add_eos ? "true" : "false"));
  }
  auto tok = [&](const char* key, int32_t id) {
    cfg.push_back(absl::StrCat(
        "\"", key, "\": ", id >= 0 ? Q(v.tokens[id]) : std::string("null")));
  };
  tok(bert ? "cls_token" : "bos_token", v.bos_id);
  tok(bert ? "sep_token" : "eos_token", v.eos_id);
  tok("unk_token", v.unk_id);
  cfg.push_back(absl::StrCat("\"tokenizer_class\": ",
                             Q(spm    ? "LlamaTokenizerFast"
                               : bert ? "BertTokenizerFast"
                                      : "PreTrainedTokenizerFast")));
  f.tokenizer_config_json =
      absl::StrCat("{\n  ", absl::StrJoin(cfg, ",\n  "), "\n}\n");
  return f;
}

}  // namespace qeff::models
