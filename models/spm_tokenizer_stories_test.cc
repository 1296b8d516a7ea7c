// The stories260K tokenizer, from the GGUF and from tok512.bin, against ids
// and text that llama.cpp produces on the GGUF.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/spm_tokenizer.h"

namespace qeff::models {
namespace {

using Ids = std::vector<int32_t>;

std::string Dir() {
  // Empty (the test skips) unless ../shared is configured and holds the model.
  const char* dir = std::getenv("QEFF_SHARED_DIR");
  if (dir == nullptr || *dir == '\0') return "";
  std::string d = std::string(dir) + "/models/stories260K/";
  return std::ifstream(d + "stories260K.gguf").good() ? d : "";
}

class StoriesTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Dir().empty())
      GTEST_SKIP() << "QEFF_SHARED_DIR is not set or lacks models/stories260K";
    auto g = LoadTokenizerFile(Dir() + "stories260K.gguf");
    ASSERT_TRUE(g.ok()) << g.status();
    gguf_ = std::move(g).value();
    auto b = LoadTokenizerFile(Dir() + "tok512.bin");
    ASSERT_TRUE(b.ok()) << b.status();
    bin_ = std::move(b).value();
  }
  std::unique_ptr<Tokenizer> gguf_, bin_;
};

TEST_F(StoriesTokenizerTest, EncodesLikeLlamaCpp) {
  for (const Tokenizer* t : {gguf_.get(), bin_.get()}) {
    EXPECT_EQ(t->vocab_size(), 512);
    EXPECT_EQ(t->bos_id(), 1);
    EXPECT_EQ(t->eos_id(), 2);
    EXPECT_TRUE(t->add_bos_by_default());
    EXPECT_EQ(*t->Encode("Once upon a time", true),
              (Ids{1, 403, 407, 261, 378}));
  }
}

TEST_F(StoriesTokenizerTest, DecodesLlamaCppContinuation) {
  const Ids ids = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
                   338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322,
                   265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261,
                   370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267,
                   337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333,
                   415, 426, 13,  438, 310, 439, 419, 357, 336};
  const std::string want =
      ", there was a little girl named Lily. She loved to play outside in "
      "the park. One day, she saw a big, red ball. She wanted to play with "
      "it, but it was too high.\nLily's mom said";
  for (const Tokenizer* t : {gguf_.get(), bin_.get()}) {
    EXPECT_EQ(*t->Decode(ids), want);
    std::string streamed;
    StreamingDecoder d(t);
    for (int32_t id : ids) streamed += d.Push(id);
    streamed += d.Finish();
    EXPECT_EQ(streamed, want);
  }
  // Round trip of the whole story (prompt + continuation).
  const std::string story = "Once upon a time" + want;
  auto a = gguf_->Encode(story, true);
  auto b = bin_->Encode(story, true);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*gguf_->Decode(*a), story);
}

TEST_F(StoriesTokenizerTest, BothSourcesAgree) {
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
