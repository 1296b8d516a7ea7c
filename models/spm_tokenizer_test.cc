#include "models/spm_tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/files.h"
#include "gtest/gtest.h"
#include "models/gguf_writer.h"

namespace qeff::models {
namespace {

using Ids = std::vector<int32_t>;
const std::string kSp = "\xe2\x96\x81";

// ids: 0 unk, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then `extra`.
std::vector<SpmPiece> Vocab(
    const std::vector<std::pair<std::string, float>>& extra) {
  std::vector<SpmPiece> v = {{"<unk>", 0, SpmTokenType::kUnknown},
                             {"<s>", 0, SpmTokenType::kControl},
                             {"</s>", 0, SpmTokenType::kControl}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    v.push_back({buf, 0, SpmTokenType::kByte});
  }
  for (const auto& [t, s] : extra) v.push_back({t, s, SpmTokenType::kNormal});
  return v;
}

std::unique_ptr<SpmTokenizer> Make(
    const std::vector<std::pair<std::string, float>>& extra,
    bool space_prefix = true) {
  SpmOptions o;
  o.add_space_prefix = space_prefix;
  o.source = "test-vocab";
  auto t = SpmTokenizer::Create(Vocab(extra), o);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(t).value();
}

constexpr int32_t kFirst = 259;

TEST(SpmTokenizerTest, MergesHighestScoreFirst) {
  // 259 ▁, 260 a, 261 b, 262 ab, 263 ▁a, 264 ▁ab
  auto t = Make({{kSp, -10},
                 {"a", -10},
                 {"b", -10},
                 {"ab", -1},
                 {kSp + "a", -2},
                 {kSp + "ab", -3}});
  EXPECT_EQ(*t->Encode("ab", false), (Ids{kFirst + 5}));
  EXPECT_EQ(*t->Encode("ab", true), (Ids{1, kFirst + 5}));
  // Without ▁ab: ab (score -1) beats ▁a (-2), leaving ▁ alone.
  auto t2 =
      Make({{kSp, -10}, {"a", -10}, {"b", -10}, {"ab", -1}, {kSp + "a", -2}});
  EXPECT_EQ(*t2->Encode("ab", false), (Ids{kFirst, kFirst + 3}));
  // With ▁a scored higher than ab, ▁a wins and b stays.
  auto t3 =
      Make({{kSp, -10}, {"a", -10}, {"b", -10}, {"ab", -3}, {kSp + "a", -2}});
  EXPECT_EQ(*t3->Encode("ab", false), (Ids{kFirst + 4, kFirst + 2}));
  EXPECT_EQ(*t3->Encode("a b", false), (Ids{kFirst + 4, kFirst, kFirst + 2}));
}

TEST(SpmTokenizerTest, TiesGoLeftmost) {
  auto t = Make({{"a", -5}, {"aa", -1}}, /*space_prefix=*/false);
  EXPECT_EQ(*t->Encode("aaa", false), (Ids{kFirst + 1, kFirst}));
  EXPECT_EQ(*t->Encode("aaaa", false), (Ids{kFirst + 1, kFirst + 1}));
}

TEST(SpmTokenizerTest, ByteFallbackAndUnk) {
  auto t = Make({{kSp, -1}, {"a", -1}});
  // é = C3 A9 is no piece -> its bytes.
  EXPECT_EQ(*t->Encode("a\xc3\xa9", false),
            (Ids{kFirst, kFirst + 1, 3 + 0xC3, 3 + 0xA9}));
  // Without byte pieces: unk.
  SpmOptions o;
  std::vector<SpmPiece> v = {{"<unk>", 0, SpmTokenType::kUnknown},
                             {"<s>", 0, SpmTokenType::kControl},
                             {"</s>", 0, SpmTokenType::kControl},
                             {kSp, -1, SpmTokenType::kNormal}};
  auto u = SpmTokenizer::Create(v, o);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*(*u)->Encode("\xc3\xa9", false), (Ids{3, 0, 0}));
}

TEST(SpmTokenizerTest, EmptyAndInvalidText) {
  auto t = Make({{kSp, -1}});
  EXPECT_EQ(*t->Encode("", true), (Ids{1}));
  EXPECT_TRUE(t->Encode("", false)->empty());
  auto bad = t->Encode("ab\xff", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("UTF-8 at byte 2"), std::string::npos)
      << bad.status();
  EXPECT_FALSE(t->Encode("\xc3", false).ok());          // truncated
  EXPECT_FALSE(t->Encode("\xc0\xaf", false).ok());      // overlong
  EXPECT_FALSE(t->Encode("\xed\xa0\x80", false).ok());  // surrogate
}

TEST(SpmTokenizerTest, Decoding) {
  // "▁hi" is reached through "hi" (every merge result must be a piece).
  auto t = Make({{kSp + "hi", -1}, {"!", -1}, {"hi", -2}});
  EXPECT_EQ(t->DecodeToken(kFirst), " hi");
  EXPECT_EQ(t->DecodeToken(3 + 0x0A), "\n");
  EXPECT_EQ(t->DecodeToken(1), "");
  EXPECT_EQ(t->DecodeToken(0), "");
  EXPECT_EQ(t->DecodeToken(9999), "");
  auto ids = *t->Encode("hi!", true);
  EXPECT_EQ(ids, (Ids{1, kFirst, kFirst + 1}));
  EXPECT_EQ(*t->Decode(ids), "hi!");  // the prefix space goes after BOS
  EXPECT_EQ(*t->Decode({kFirst, kFirst + 1}), " hi!");
  EXPECT_FALSE(t->Decode({kFirst, 12345}).ok());
}

TEST(SpmTokenizerTest, CreateRejectsBadConfig) {
  SpmOptions o;
  o.bos_id = 999;
  EXPECT_FALSE(SpmTokenizer::Create(Vocab({}), o).ok());
  std::vector<SpmPiece> v = Vocab({});
  v[5].text = "<0xZZ>";
  EXPECT_FALSE(SpmTokenizer::Create(v, SpmOptions()).ok());
}

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> FromGgufWriter(
    const GgufWriter& w, const std::string& name) {
  std::string path = TmpPath(name);
  EXPECT_TRUE(w.WriteFile(path).ok());
  return LoadTokenizerFile(path);
}

TEST(SpmTokenizerTest, FromGgufMetadata) {
  GgufWriter w;
  w.Add("tokenizer.ggml.model", GgufValue::String("llama"));
  w.Add("tokenizer.ggml.tokens",
        GgufValue::StringArray({"<unk>", "<s>", "</s>", kSp + "x", "<0x0A>"}));
  w.Add("tokenizer.ggml.scores", GgufValue::F32Array({0, 0, 0, -1, 0}));
  w.Add("tokenizer.ggml.token_type", GgufValue::I32Array({2, 3, 3, 1, 6}));
  w.Add("tokenizer.ggml.add_bos_token", GgufValue::Bool(false));
  w.Add("tokenizer.ggml.padding_token_id", GgufValue::U32(0xFFFFFFFFu));
  auto t = FromGgufWriter(w, "tok.gguf");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE((*t)->add_bos_by_default());
  EXPECT_EQ(*(*t)->Encode("x\n", false), (Ids{3, 4}));
  // "▁y": no piece, no byte pieces for its 4 bytes: unk per byte.
  EXPECT_EQ(*(*t)->Encode("y", false), (Ids{0, 0, 0, 0}));

  GgufWriter bad_model = w;
  bad_model.Add("tokenizer.ggml.model", GgufValue::String("gpt2"));
  auto e = FromGgufWriter(bad_model, "gpt2.gguf");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("'gpt2'"), std::string::npos);
  GgufWriter bad_types = w;
  bad_types.Add("tokenizer.ggml.token_type", GgufValue::I32Array({2, 3}));
  e = FromGgufWriter(bad_types, "types.gguf");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("tokenizer.ggml.token_type"),
            std::string::npos);
  GgufWriter eos = w;
  eos.Add("tokenizer.ggml.add_eos_token", GgufValue::Bool(true));
  EXPECT_FALSE(FromGgufWriter(eos, "eos.gguf").ok());
  GgufWriter no_tokens;
  no_tokens.Add("tokenizer.ggml.model", GgufValue::String("llama"));
  e = FromGgufWriter(no_tokens, "none.gguf");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("tokenizer.ggml.tokens"),
            std::string::npos);
}

TEST(SpmTokenizerTest, TruncatedLlama2cTokenizerIsNamed) {
  std::string path = TmpPath("trunc_tok.bin");
  std::string bytes("\x05\0\0\0\0\0\0\0\x05\0\0\0<u", 14);
  ASSERT_TRUE(base::WriteFileAtomically(path, bytes).ok());
  auto t = LoadTokenizerFile(path);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("truncated: token #0"), std::string::npos)
      << t.status();
}

TEST(Utf8Test, Helpers) {
  EXPECT_EQ(FindInvalidUtf8("abc \xe2\x96\x81 \xf0\x9f\x98\x80"),
            absl::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(CompleteUtf8Prefix("ab\xe2\x96"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xe2\x96\x81"), 5u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xe2\x41"), 4u);  // cannot complete
  EXPECT_EQ(CompleteUtf8Prefix("\xff"), 1u);
}

TEST(StreamingDecoderTest, HoldsIncompleteSequences) {
  auto t = Make({{kSp + "hi", -1}});
  StreamingDecoder d(t.get());
  EXPECT_EQ(d.Push(kFirst), " hi");
  EXPECT_EQ(d.Push(3 + 0xE2), "");
  EXPECT_EQ(d.Push(3 + 0x96), "");
  EXPECT_EQ(d.Push(3 + 0x81), "\xe2\x96\x81");
  EXPECT_EQ(d.Push(3 + 0xFF), "\xff");  // never valid: passed through
  EXPECT_EQ(d.Push(3 + 0xC3), "");
  EXPECT_EQ(d.Finish(), "\xc3");
  EXPECT_EQ(d.Finish(), "");
}

}  // namespace
}  // namespace qeff::models
