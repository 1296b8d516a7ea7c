#include "models/bpe_tokenizer.h"

#include "gtest/gtest.h"
#include "models/pretokenize.h"
#include "models/unicode.h"

namespace qeff::models {
namespace {

TEST(PreTokenizer, UnknownTypeListsSupported) {
  auto c = PreTokenizerConfigFor("no-such-pre");
  ASSERT_FALSE(c.ok());
  std::string msg(c.status().message());
  EXPECT_NE(msg.find("unknown pre-tokenizer type 'no-such-pre'"),
            std::string::npos);
  EXPECT_NE(msg.find("llama-bpe"), std::string::npos) << msg;
  EXPECT_NE(msg.find("qwen2"), std::string::npos) << msg;
}

TEST(PreTokenizer, Gpt2Split) {
  auto c = PreTokenizerConfigFor("gpt-2");
  ASSERT_TRUE(c.ok());
  auto p = PreTokenizer::Create(c->regexes);
  ASSERT_TRUE(p.ok()) << p.status();
  // "'a" is no contraction: "'" and "all" are separate words.
  std::vector<std::string> want = {"Hello", ",",  " y",   "'", "all",
                                   "!",     "  ", " 123", "\n"};
  EXPECT_EQ((*p)->Split("Hello, y'all!   123\n"), want);
}

TEST(PreTokenizer, Llama3DigitsAndNonAsciiSpace) {
  auto c = PreTokenizerConfigFor("llama-bpe");
  ASSERT_TRUE(c.ok());
  auto p = PreTokenizer::Create(c->regexes);
  ASSERT_TRUE(p.ok());
  // Digits in threes; U+3000 may lead a letter run ([^\r\n\p{L}\p{N}]?).
  std::vector<std::string> want = {"123", "45", "\xe3\x80\x80x"};
  EXPECT_EQ((*p)->Split("12345\xe3\x80\x80x"), want);
}

TEST(PreTokenizer, BadRegexIsNamed) {
  auto p = PreTokenizer::Create({"([a-z"});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("([a-z"), std::string::npos);
}

TEST(Unicode, ByteMappingRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(unicode::CodepointToByte(unicode::ByteToCodepoint(b)), b);
  }
  EXPECT_EQ(unicode::ByteEncode(" "), "\xc4\xa0");  // 'Ġ'
  auto nfc = unicode::Normalize("e\xcc\x81", unicode::NormalForm::kNfc);
  ASSERT_TRUE(nfc.ok());
  EXPECT_EQ(*nfc, "\xc3\xa9");
  EXPECT_FALSE(unicode::ParseNormalForm("NFX").ok());
}

std::unique_ptr<BpeTokenizer> Tiny() {
  // Byte-level pieces for "hello world".
  std::vector<VocabToken> toks;
  for (const char* t : {"h", "e", "l", "o", "\xc4\xa0", "w", "r", "d", "he",
                        "ll", "hell", "hello", "\xc4\xa0w", "or", "\xc4\xa0wor",
                        "\xc4\xa0world", "<|end|>"}) {
    toks.push_back({t, 0, kAttrNormal});
  }
  toks.back().attr = kAttrControl;
  std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"},          {"l", "l"},           {"he", "ll"},
      {"hell", "o"},       {"\xc4\xa0", "w"},    {"o", "r"},
      {"\xc4\xa0w", "or"}, {"\xc4\xa0wor", "l"}, {"\xc4\xa0worl", "d"}};
  BpeOptions opt;
  opt.pre = *PreTokenizerConfigFor("gpt-2");
  opt.eos_id = 16;
  opt.source = "tiny";
  auto t = BpeTokenizer::Create(std::move(toks), merges, opt);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

TEST(BpeTokenizer, MergesByRank) {
  auto t = Tiny();
  ASSERT_NE(t, nullptr);
  auto ids = t->Encode("hello world", false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  // Merges apply by rank even through " worl", which is no token.
  EXPECT_EQ(*ids, (std::vector<int32_t>{11, 15}));
  auto text = t->Decode(*ids);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hello world");
  // Control tokens in the text are plain text, not their id.
  auto ctl = t->Encode("<|end|>", false);
  ASSERT_TRUE(ctl.ok());
  EXPECT_EQ(std::count(ctl->begin(), ctl->end(), 16), 0);
  EXPECT_EQ(t->DecodeToken(16), "");
}

TEST(BpeTokenizer, BadInput) {
  auto t = Tiny();
  ASSERT_NE(t, nullptr);
  auto ids = t->Encode("he\xff", false);
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(
      std::string(ids.status().message()).find("not valid UTF-8 at byte 2"),
      std::string::npos);
  EXPECT_FALSE(t->Decode({99}).ok());
  BpeOptions opt;
  opt.pre = *PreTokenizerConfigFor("gpt-2");
  opt.bos_id = 5;
  opt.source = "bad.gguf";
  auto bad = BpeTokenizer::Create({{"a", 0, kAttrNormal}}, {}, opt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("bad.gguf: bos id 5"),
            std::string::npos)
      << bad.status();
}

TEST(StreamingDecoder, ByteLevelSplitsNoUtf8Sequence) {
  // Byte-level tokens for the two bytes of "é" (0xC3 0xA9) as separate ids.
  std::vector<VocabToken> toks = {
      {"\xc3\x83", 0, kAttrNormal},  // byte 0xC3 -> U+00C3
      {"\xc2\xa9", 0, kAttrNormal},  // byte 0xA9 -> U+00A9
  };
  BpeOptions opt;
  opt.pre = *PreTokenizerConfigFor("gpt-2");
  auto t = BpeTokenizer::Create(toks, {}, opt);
  ASSERT_TRUE(t.ok()) << t.status();
  StreamingDecoder d(t->get());
  EXPECT_EQ(d.Push(0), "");
  EXPECT_EQ(d.Push(1), "\xc3\xa9");
  EXPECT_EQ(d.Finish(), "");
}

}  // namespace
}  // namespace qeff::models
