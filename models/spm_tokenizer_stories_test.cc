// The stories260K tokenizer, from the GGUF shipped in the repository and from
// llama2.c's tok512.bin ($QEFF_SHARED_DIR/models/stories260K, not shipped),
// against ids and text that llama.cpp produces on the GGUF. The tok512.bin
// cases skip with a reason when ../shared lacks it.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/spm_tokenizer.h"
#include "tests/util/test_util.h"

namespace qeff::models {
namespace {

using Ids = std::vector<int32_t>;

// llama.cpp's greedy continuation of "Once upon a time" on the GGUF.
constexpr char kContinuation[] =
    ", there was a little girl named Lily. She loved to play outside in "
    "the park. One day, she saw a big, red ball. She wanted to play with "
    "it, but it was too high.\nLily's mom said";

// The tokenizer from the in-repo GGUF ("gguf") or from tok512.bin ("tok512");
// "" with the reason in *why when tok512.bin is absent.
std::string TokenizerPath(const std::string& source, std::string* why) {
  if (source == "gguf") return testing::Stories260KGguf();
  return testing::SharedFile("models/stories260K/tok512.bin", why);
}

// One case per source: the GGUF's always runs, tok512.bin's when present.
class StoriesTokenizerTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string why;
    std::string path = TokenizerPath(GetParam(), &why);
    if (path.empty()) GTEST_SKIP() << why;
    auto t = LoadTokenizerFile(path);
    ASSERT_TRUE(t.ok()) << t.status();
    tok_ = std::move(t).value();
  }
  std::unique_ptr<Tokenizer> tok_;
};

TEST_P(StoriesTokenizerTest, EncodesLikeLlamaCpp) {
  EXPECT_EQ(tok_->vocab_size(), 512);
  EXPECT_EQ(tok_->bos_id(), 1);
  EXPECT_EQ(tok_->eos_id(), 2);
  EXPECT_TRUE(tok_->add_bos_by_default());
  EXPECT_EQ(*tok_->Encode("Once upon a time", true),
            (Ids{1, 403, 407, 261, 378}));
}

TEST_P(StoriesTokenizerTest, DecodesLlamaCppContinuation) {
  const Ids ids = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
                   338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322,
                   265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261,
                   370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267,
                   337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333,
                   415, 426, 13,  438, 310, 439, 419, 357, 336};
  const std::string want = kContinuation;
  EXPECT_EQ(*tok_->Decode(ids), want);
  std::string streamed;
  StreamingDecoder d(tok_.get());
  for (int32_t id : ids) streamed += d.Push(id);
  streamed += d.Finish();
  EXPECT_EQ(streamed, want);
  // Round trip of the whole story (prompt + continuation).
  const std::string story = "Once upon a time" + want;
  auto a = tok_->Encode(story, true);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*tok_->Decode(*a), story);
}

INSTANTIATE_TEST_SUITE_P(Sources, StoriesTokenizerTest,
                         ::testing::Values("gguf", "tok512"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param);
                         });

// The GGUF's and tok512.bin's tokenizers side by side (skips without
// tok512.bin).
class StoriesTokenizerBothTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    std::string bin = TokenizerPath("tok512", &why);
    if (bin.empty()) GTEST_SKIP() << why;
    auto g = LoadTokenizerFile(TokenizerPath("gguf", &why));
    ASSERT_TRUE(g.ok()) << g.status();
    gguf_ = std::move(g).value();
    auto b = LoadTokenizerFile(bin);
    ASSERT_TRUE(b.ok()) << b.status();
    bin_ = std::move(b).value();
  }
  std::unique_ptr<Tokenizer> gguf_, bin_;
};

TEST_F(StoriesTokenizerBothTest, BothSourcesAgree) {
  // The whole story (prompt + continuation).
  const std::string story = std::string("Once upon a time") + kContinuation;
  auto sa = gguf_->Encode(story, true);
  auto sb = bin_->Encode(story, true);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_EQ(*sa, *sb);

  const char* texts[] = {"",
                         "Hello world",
                         "  two  spaces ",
                         "Tom's dog ran fast!\n\nThe end.",
                         "caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80 z",
                         "\t tabs\tand\r\nCRLF"};
  for (const char* text : texts) {
    auto a = gguf_->Encode(text, true);
    auto b = bin_->Encode(text, true);
    ASSERT_TRUE(a.ok() && b.ok()) << text;
    EXPECT_EQ(*a, *b) << text;
    EXPECT_EQ(*gguf_->Decode(*a), text);
  }
  auto bad = bin_->Encode("bad \xc3(", false);
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace qeff::models
