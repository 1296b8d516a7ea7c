#include "models/hf_tokenizer.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/hf_tokenizer_writer.h"
#include "models/tokenizer_loader.h"
#include "models/unicode.h"

namespace qeff::models {
namespace {

using ::testing::HasSubstr;

const std::string kSp = "\xe2\x96\x81";  // U+2581

std::unique_ptr<Tokenizer> FromJson(const std::string& text,
                                    const TokenizerConfig* cfg = nullptr) {
  auto j = base::ParseJson(text);
  EXPECT_TRUE(j.ok()) << j.status();
  if (!j.ok()) return nullptr;
  auto t = TokenizerFromHfJson(*j, cfg, "test/tokenizer.json");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

absl::Status LoadError(const std::string& text) {
  auto j = base::ParseJson(text);
  if (!j.ok()) return j.status();
  return TokenizerFromHfJson(*j, nullptr, "test/tokenizer.json").status();
}

std::vector<int32_t> Ids(const Tokenizer& t, const std::string& s,
                         bool bos = false) {
  auto ids = t.Encode(s, bos);
  EXPECT_TRUE(ids.ok()) << ids.status();
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

// A tiny GPT-2 style vocabulary: 256 byte tokens, merges for " the",
// "the", "he", and <|endoftext|>; plus a non-special added token.
HfVocabSource ByteLevelSource(const std::string& pre) {
  HfVocabSource v;
  v.model = "gpt2";
  v.pre = pre;
  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::AppendUtf8(unicode::ByteToCodepoint(b), &s);
    v.tokens.push_back(s);
  }
  // "Ġ" is GPT-2's byte-level spelling of ' '.
  for (const char* m : {"Ġ t", "Ġt h", "Ġth e", "t h", "th e", "h e"}) {
    std::string ms = m;
    v.merges.push_back(ms);
    size_t sp = ms.find(' ');
    v.tokens.push_back(ms.substr(0, sp) + ms.substr(sp + 1));
  }
  v.tokens.push_back("<|endoftext|>");
  v.tokens.push_back("<tool>");
  v.scores.assign(v.tokens.size(), 0);
  v.types.assign(v.tokens.size(), 1);
  v.types[v.tokens.size() - 2] = 3;  // control
  v.types[v.tokens.size() - 1] = 4;  // user-defined
  v.bos_id = v.eos_id = static_cast<int32_t>(v.tokens.size()) - 2;
  return v;
}

int32_t IdOf(const HfVocabSource& v, const std::string& text) {
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.tokens[i] == text) return static_cast<int32_t>(i);
  return -1;
}

TEST(HfTokenizer, ByteLevelGpt2) {
  HfVocabSource v = ByteLevelSource("gpt-2");
  auto files = MakeHfTokenizerFiles(v);
  ASSERT_TRUE(files.ok()) << files.status();
  auto cj = base::ParseJson(files->tokenizer_config_json);
  ASSERT_TRUE(cj.ok()) << cj.status();
  auto cfg = ParseTokenizerConfig(*cj, "tokenizer_config.json");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  auto t = FromJson(files->tokenizer_json, &*cfg);
  ASSERT_NE(t, nullptr);
  const int32_t the = IdOf(v, "\xc4\xa0the"), the0 = IdOf(v, "the");
  EXPECT_EQ(Ids(*t, "the the"), (std::vector<int32_t>{the0, the}));
  // Control tokens in text are text; user-defined ones are split out.
  std::vector<int32_t> eot = Ids(*t, "<|endoftext|>");
  EXPECT_GT(eot.size(), 1u);
  EXPECT_EQ(Ids(*t, "<tool>the"),
            (std::vector<int32_t>{IdOf(v, "<tool>"), the0}));
  EXPECT_EQ(*t->Decode(Ids(*t, "the héllo\n")), "the héllo\n");
  EXPECT_EQ(t->eos_id(), IdOf(v, "<|endoftext|>"));
  EXPECT_FALSE(t->add_bos_by_default());
}

TEST(HfTokenizer, SplitRegexAndIgnoreMerges) {
  HfVocabSource v = ByteLevelSource("llama-bpe");
  v.add_bos = true;
  auto files = MakeHfTokenizerFiles(v);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_NE(files->tokenizer_json.find("\"ignore_merges\": true"),
            std::string::npos);
  auto t = FromJson(files->tokenizer_json);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->add_bos_by_default());
  const int32_t bos = IdOf(v, "<|endoftext|>");
  EXPECT_EQ(Ids(*t, " the", true),
            (std::vector<int32_t>{bos, IdOf(v, "\xc4\xa0the")}));
  // llama3's regex: "'S" is one piece with (?i:'s), digits go by three.
  std::vector<int32_t> ids = Ids(*t, "it'S 12345");
  std::vector<int32_t> want = {IdOf(v, "i"), IdOf(v, "t"),        IdOf(v, "'"),
                               IdOf(v, "S"), IdOf(v, "\xc4\xa0"), IdOf(v, "1"),
                               IdOf(v, "2"), IdOf(v, "3"),        IdOf(v, "4"),
                               IdOf(v, "5")};
  EXPECT_EQ(ids, want);
}

TEST(HfTokenizer, ExpandCaseInsensitiveGroups) {
  EXPECT_EQ(ExpandCaseInsensitiveGroups("(?i:'s|'ll)|\\p{L}+|[a-z]"),
            "(?:'[sS]|'[lL][lL])|\\p{L}+|[a-z]");
  EXPECT_EQ(ExpandCaseInsensitiveGroups("(?i:(a)|[b])c"), "(?:([aA])|[b])c");
}

// Llama-2 style (Prepend + Replace, byte_fallback) against the same vocab
// as a SentencePiece GGUF would hold.
TEST(HfTokenizer, Llama2Style) {
  HfVocabSource v;
  v.model = "llama";
  auto add = [&](const std::string& p, float score, int32_t type) {
    v.tokens.push_back(p);
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    add(buf, 0, 6);
  }
  add(kSp, -1, 1);
  add("h", -2, 1);
  add("i", -3, 1);
  add(kSp + "h", -4, 1);
  add(kSp + "hi", -5, 1);
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.add_bos = true;
  auto files = MakeHfTokenizerFiles(v);
  ASSERT_TRUE(files.ok()) << files.status();
  auto t = FromJson(files->tokenizer_json);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->add_bos_by_default());
  const int32_t hi = IdOf(v, kSp + "hi"), sp = IdOf(v, kSp);
  EXPECT_EQ(Ids(*t, "hi hi", true), (std::vector<int32_t>{1, hi, hi}));
  // Byte fallback for characters not in the vocabulary: "é" = C3 A9.
  EXPECT_EQ(Ids(*t, "é"), (std::vector<int32_t>{sp, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(*t->Decode(Ids(*t, "hi é", true)), "hi é");
  EXPECT_EQ(*t->Decode({hi}), " hi");  // no BOS: the space stays
  EXPECT_TRUE(Ids(*t, "").empty());
  // tokenizer_config.json overrides the template's BOS.
  TokenizerConfig cfg;
  cfg.add_bos_token = false;
  auto t2 = FromJson(files->tokenizer_json, &cfg);
  ASSERT_NE(t2, nullptr);
  EXPECT_FALSE(t2->add_bos_by_default());
}

TEST(HfTokenizer, WordPiece) {
  const std::string json = R"({
    "added_tokens": [
      {"id": 0, "content": "[PAD]", "special": true},
      {"id": 1, "content": "[UNK]", "special": true},
      {"id": 2, "content": "[CLS]", "special": true},
      {"id": 3, "content": "[SEP]", "special": true}],
    "normalizer": {"type": "BertNormalizer", "clean_text": true,
      "handle_chinese_chars": true, "strip_accents": null,
      "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
      "special_tokens": {
        "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
        "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
    "model": {"type": "WordPiece", "unk_token": "[UNK]",
      "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
      "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3,
                "play": 4, "##ing": 5, "cafe": 6, "!": 7}}
  })";
  auto t = FromJson(json);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Ids(*t, "Playing CAFÉ! xyz", true),
            (std::vector<int32_t>{2, 4, 5, 6, 7, 1, 3}));
  EXPECT_EQ(*t->Decode({2, 4, 5, 6, 3}), "playing cafe");
}

TEST(HfTokenizer, UnsupportedComponentsAreNamedErrors) {
  const std::string model =
      R"("model": {"type": "BPE", "byte_fallback": true,
         "vocab": {"a": 0, "<0x61>": 1}, "merges": []})";
  absl::Status s =
      LoadError("{\"normalizer\": {\"type\": \"Lowercase\"}, " + model + "}");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), HasSubstr("normalizer"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("Lowercase"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("supported: NFC"));
  s = LoadError("{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, " + model +
                "}");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), HasSubstr("Whitespace"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("Split"));
  s = LoadError(
      "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": "
      "\"a\"}, \"behavior\": \"Removed\", \"invert\": false}, " +
      model + "}");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), HasSubstr("Removed"));
  s = LoadError(R"({"model": {"type": "Unigram", "vocab": []}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), HasSubstr("BPE, WordPiece"));
  s = LoadError(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("test/tokenizer.json"));
  s = LoadError(R"({"model": {"type": "BPE", "vocab": {"a": 0},
                   "merges": ["ab"]}, "pre_tokenizer": {"type": "ByteLevel"}})");
  EXPECT_THAT(std::string(s.message()), HasSubstr("model.merges[0]"));
  // A truncated file.
  s = LoadError(R"({"model": {"type": "BPE", "vocab": {"a": 0)");
  EXPECT_FALSE(s.ok());
  // dropout: a number (non-zero: unsupported) or null; anything else is
  // malformed (found by the tokenizer_json fuzzer: it aborted).
  s = LoadError(R"({"model": {"type": "BPE", "dropout": true,
                   "vocab": {"a": 0}, "merges": []}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("model.dropout"));
  s = LoadError(R"({"model": {"type": "BPE", "dropout": 0.1,
                   "vocab": {"a": 0}, "merges": []}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), HasSubstr("model.dropout"));
}

TEST(HfTokenizer, LoadTokenizerReadsFolderAndConfig) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string dir = std::string(tmp) + "/tok";
  mkdir(dir.c_str(), 0755);
  HfVocabSource v = ByteLevelSource("qwen2");
  auto files = MakeHfTokenizerFiles(v);
  ASSERT_TRUE(files.ok()) << files.status();
  std::ofstream(dir + "/tokenizer.json") << files->tokenizer_json;
  std::ofstream(dir + "/tokenizer_config.json")
      << "{\"add_bos_token\": true, \"bos_token\": \"<|endoftext|>\"}";
  for (const std::string& p : {dir, dir + "/tokenizer.json"}) {
    auto t = LoadTokenizer(p);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE((*t)->add_bos_by_default()) << p;
    EXPECT_EQ((*t)->bos_id(), IdOf(v, "<|endoftext|>"));
  }
  auto bad = LoadTokenizer(dir + "/missing.json");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace qeff::models
