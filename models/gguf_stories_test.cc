// Reads the real stories260K.gguf (llama.cpp's CI model) shipped in the
// repository at models/stories260K.
#include <string>

#include "gtest/gtest.h"
#include "models/gguf.h"
#include "tests/util/test_util.h"

namespace qeff::models {
namespace {

TEST(GgufStoriesTest, ReadsStories260K) {
  auto g = ReadGguf(testing::Stories260KGguf());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(*g->GetString("general.architecture"), "llama");
  EXPECT_EQ(*g->GetU32("llama.embedding_length"), 64u);
  EXPECT_EQ(*g->GetU32("llama.block_count"), 5u);
  EXPECT_EQ(*g->GetU32("llama.attention.head_count"), 8u);
  EXPECT_EQ(*g->GetU32("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(*g->GetU32("llama.feed_forward_length"), 172u);
  EXPECT_EQ(g->GetStringArray("tokenizer.ggml.tokens")->size(), 512u);
  EXPECT_EQ(g->GetFloatArray("tokenizer.ggml.scores")->size(), 512u);
  EXPECT_EQ(*g->GetString("tokenizer.ggml.model"), "llama");

  auto embd = g->GetTensor("token_embd.weight");
  ASSERT_TRUE(embd.ok()) << embd.status();
  EXPECT_EQ(embd->dims(), (std::vector<int64_t>{512, 64}));
  auto q = g->GetTensor("blk.0.attn_q.weight");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->dims(), (std::vector<int64_t>{64, 64}));
  auto k = g->GetTensor("blk.4.attn_k.weight");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->dims(), (std::vector<int64_t>{32, 64}));
  auto up = g->GetTensor("blk.2.ffn_up.weight");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->dims(), (std::vector<int64_t>{172, 64}));
  auto down = g->GetTensor("blk.2.ffn_down.weight");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->dims(), (std::vector<int64_t>{64, 172}));
  // 1 embedding + 1 final norm + 1 output + 9 per layer.
  EXPECT_EQ(g->tensors().size(), 3u + 9u * 5u);
  for (const auto& t : g->tensors()) {
    EXPECT_EQ(t.ggml_type, kGgmlF32) << t.name;
    EXPECT_TRUE(t.tensor.buffer()->is_mapped());
  }
  // The file stores the (tied) output projection as its own tensor.
  auto out = g->GetTensor("output.weight");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->dims(), (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(out->ToFloats(), embd->ToFloats());
}

}  // namespace
}  // namespace qeff::models
