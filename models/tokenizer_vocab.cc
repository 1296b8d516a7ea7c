#include "models/tokenizer_vocab.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {

uint32_t AttrFromTokenType(int64_t type) {
  switch (type) {
    case 1:
      return kAttrNormal;
    case 2:
      return kAttrUnknown;
    case 3:
      return kAttrControl;
    case 4:
      return kAttrUserDefined;
    case 5:
      return kAttrUnused;
    case 6:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

void ApplyLlamaCppAttrFixups(const SpecialIds& given,
                             absl::string_view model_name,
                             std::vector<VocabToken>* tokens) {
  std::vector<VocabToken>& t = *tokens;
  const int32_t n = static_cast<int32_t>(t.size());
  auto any_of = [](const std::string& s,
                   std::initializer_list<absl::string_view> names) {
    for (absl::string_view x : names) {
      if (s == x) return true;
    }
    return false;
  };
  // One id per category, the first found (llama.cpp walks a hash map; ids
  // are unique per text so only vocabularies with two spellings differ).
  SpecialIds ids = given;
  auto detect = [&](int32_t* slot,
                    std::initializer_list<absl::string_view> names) {
    if (*slot >= 0) return;
    for (int32_t i = 0; i < n; ++i) {
      if (any_of(t[i].text, names)) {
        *slot = i;
        t[i].attr |= kAttrControl;
        return;
      }
    }
  };
  detect(&ids.eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                    "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
                    "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"});
  detect(&ids.eom, {"<|eom_id|>"});
  detect(&ids.fim_pre,
         {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>",
          "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"});
  detect(&ids.fim_suf,
         {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>",
          "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"});
  detect(&ids.fim_mid,
         {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>",
          "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"});
  detect(&ids.fim_pad,
         {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
  detect(&ids.fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                        "<reponame>"});
  detect(&ids.fim_sep, {"<|file_sep|>"});
  for (int32_t i = 0; i < n; ++i) {
    if ((t[i].attr & kAttrControl) && !(t[i].attr & kAttrUnused) &&
        absl::StrContains(t[i].text, "unused")) {
      t[i].attr |= kAttrUnused;
    }
  }
  std::vector<int32_t> eog;
  for (int32_t i = 0; i < n; ++i) {
    if (any_of(t[i].text, {"<|eot_id|>",
                           "<|im_end|>",
                           "<|end|>",
                           "<|return|>",
                           "<|call|>",
                           "<|flush|>",
                           "<|calls|>",
                           "<end_of_turn>",
                           "<|endoftext|>",
                           "</s>",
                           "<|eom_id|>",
                           "<EOT>",
                           "_<EOT>",
                           "[EOT]",
                           "[EOS]",
                           "<|end_of_text|>",
                           "<end_of_utterance>",
                           "<eos>",
                           "<turn|>",
                           "<|tool_response>",
                           "<｜end▁of▁sentence｜>",
                           "[e~["})) {
      eog.push_back(i);
      t[i].attr |= kAttrControl;
    }
  }
  for (int32_t i = 0; i < n; ++i) {
    if (any_of(t[i].text,
               {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})) {
      t[i].attr = kAttrUserDefined;
    }
  }
  auto has = [&](absl::string_view text) -> int32_t {
    for (int32_t i : eog) {
      if (t[i].text == text) return i;
    }
    return -1;
  };
  int32_t end_id = has("<|end|>");
  if (end_id >= 0 && ((has("<|return|>") >= 0 &&
                       (has("<|call|>") >= 0 || has("<|calls|>") >= 0)) ||
                      ((has("<|call|>") >= 0 || has("<|calls|>") >= 0) &&
                       has("<|flush|>") >= 0))) {
    t[end_id].attr = kAttrUserDefined;
  }
  int32_t s_id = has("</s>");
  if (s_id >= 0 && has("<|tool_response>") >= 0) t[s_id].attr = kAttrNormal;

  std::string name = absl::AsciiStrToLower(model_name);
  if (absl::StrContains(name, "phi-3") || absl::StrContains(name, "phi3")) {
    for (int32_t i = 0; i < n; ++i) {
      if (t[i].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
        t[i].attr |= kAttrRstrip;
      }
    }
    for (int32_t i = 0; i < n; ++i) {
      if (t[i].text == "</s>") t[i].attr |= kAttrRstrip;
      if (any_of(t[i].text, {"<unk>", "<s>", "<|endoftext|>"})) {
        t[i].attr &= ~kAttrRstrip;
      }
    }
  }
}

SpecialTokenSplitter::SpecialTokenSplitter(
    const std::vector<VocabToken>& tokens)
    : tokens_(&tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      special_.push_back(static_cast<int32_t>(i));
    }
  }
  std::stable_sort(special_.begin(), special_.end(), [&](int32_t a, int32_t b) {
    return tokens[a].text.size() > tokens[b].text.size();
  });
}

std::vector<TextFragment> SpecialTokenSplitter::Split(
    absl::string_view text, bool parse_special) const {
  std::vector<TextFragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  for (int32_t id : special_) {
    const VocabToken& tok = (*tokens_)[id];
    if (!parse_special && (tok.attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string& st = tok.text;
    if (st.empty()) continue;
    std::vector<TextFragment> next;
    next.reserve(frags.size());
    for (const TextFragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t off = f.offset, len = f.length;
      while (true) {
        size_t match = text.substr(0, off + len).find(st, off);
        if (match == absl::string_view::npos) {
          if (len > 0) next.push_back({-1, off, len});
          break;
        }
        if (match > off) {
          size_t left = match - off;
          if (tok.attr & kAttrLstrip) {
            while (left > 0 && std::isspace(static_cast<unsigned char>(
                                   text[off + left - 1]))) {
              --left;
            }
          }
          if (left > 0) next.push_back({-1, off, left});
        }
        next.push_back({id, 0, 0});
        size_t roff = match + st.size();
        size_t rlen = off + len - roff;
        if (tok.attr & kAttrRstrip) {
          while (rlen > 0 &&
                 std::isspace(static_cast<unsigned char>(text[roff]))) {
            ++roff;
            --rlen;
          }
        }
        off = roff;
        len = rlen;
        if (len == 0) break;
      }
    }
    frags = std::move(next);
  }
  return frags;
}

absl::StatusOr<int32_t> ReadGgufTokenId(const GgufFile& gguf,
                                        absl::string_view name, int32_t dflt,
                                        int32_t n_tokens) {
  std::string key = absl::StrCat("tokenizer.ggml.", name, "_token_id");
  if (!gguf.Has(key)) return dflt < n_tokens ? dflt : -1;
  QEFF_ASSIGN_OR_RETURN(int64_t v, gguf.GetInt(key));
  // llama.cpp: an out-of-range id keeps the default.
  if (v < 0 || v >= n_tokens) return dflt < n_tokens ? dflt : -1;
  return static_cast<int32_t>(v);
}

absl::StatusOr<bool> ReadGgufBool(const GgufFile& gguf, absl::string_view key,
                                  bool dflt) {
  if (!gguf.Has(key)) return dflt;
  return gguf.GetBool(key);
}

absl::StatusOr<std::vector<VocabToken>> ReadGgufVocab(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  QEFF_ASSIGN_OR_RETURN(std::vector<std::string> texts,
                        gguf.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = texts.size();
  if (n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": tokenizer.ggml.tokens is empty"));
  }
  std::vector<float> scores;
  if (gguf.Has("tokenizer.ggml.scores")) {
    QEFF_ASSIGN_OR_RETURN(scores, gguf.GetFloatArray("tokenizer.ggml.scores"));
    if (scores.size() < n) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tokenizer.ggml.scores has ", scores.size(),
                       " entries, tokenizer.ggml.tokens has ", n));
    }
  }
  std::vector<int64_t> types;
  if (gguf.Has("tokenizer.ggml.token_type")) {
    QEFF_ASSIGN_OR_RETURN(types, gguf.GetIntArray("tokenizer.ggml.token_type"));
    if (types.size() < n) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tokenizer.ggml.token_type has ", types.size(),
                       " entries, tokenizer.ggml.tokens has ", n));
    }
  }
  std::vector<VocabToken> tokens(n);
  for (size_t i = 0; i < n; ++i) {
    tokens[i].text = std::move(texts[i]);
    if (tokens[i].text.empty())
      tokens[i].text = absl::StrCat("[EMPTY_", i, "]");
    if (!scores.empty()) tokens[i].score = scores[i];
    if (!types.empty()) tokens[i].attr = AttrFromTokenType(types[i]);
  }
  const int32_t nt = static_cast<int32_t>(n);
  SpecialIds ids;
  QEFF_ASSIGN_OR_RETURN(ids.eot, ReadGgufTokenId(gguf, "eot", -1, nt));
  QEFF_ASSIGN_OR_RETURN(ids.eom, ReadGgufTokenId(gguf, "eom", -1, nt));
  QEFF_ASSIGN_OR_RETURN(ids.fim_pre, ReadGgufTokenId(gguf, "fim_pre", -1, nt));
  QEFF_ASSIGN_OR_RETURN(ids.fim_suf, ReadGgufTokenId(gguf, "fim_suf", -1, nt));
  QEFF_ASSIGN_OR_RETURN(ids.fim_mid, ReadGgufTokenId(gguf, "fim_mid", -1, nt));
  QEFF_ASSIGN_OR_RETURN(ids.fim_pad, ReadGgufTokenId(gguf, "fim_pad", -1, nt));
  QEFF_ASSIGN_OR_RETURN(ids.fim_rep, ReadGgufTokenId(gguf, "fim_rep", -1, nt));
  QEFF_ASSIGN_OR_RETURN(ids.fim_sep, ReadGgufTokenId(gguf, "fim_sep", -1, nt));
  if (ids.fim_pre < 0) {
    QEFF_ASSIGN_OR_RETURN(ids.fim_pre, ReadGgufTokenId(gguf, "prefix", -1, nt));
  }
  if (ids.fim_suf < 0) {
    QEFF_ASSIGN_OR_RETURN(ids.fim_suf, ReadGgufTokenId(gguf, "suffix", -1, nt));
  }
  if (ids.fim_mid < 0) {
    QEFF_ASSIGN_OR_RETURN(ids.fim_mid, ReadGgufTokenId(gguf, "middle", -1, nt));
  }
  std::string name;
  if (gguf.Has("general.name")) {
    QEFF_ASSIGN_OR_RETURN(name, gguf.GetString("general.name"));
  }
  ApplyLlamaCppAttrFixups(ids, name, &tokens);
  return tokens;
}

}  // namespace qeff::models
