// Reads the real stories260K.bin / tok512.bin (llama2.c's files, not shipped)
// from $QEFF_SHARED_DIR/models/stories260K and checks them against the GGUF
// shipped in the repository. Skips with a reason when ../shared lacks them.
#include <string>

#include "gtest/gtest.h"
#include "models/gguf.h"
#include "models/llama2c.h"
#include "tests/util/test_util.h"

namespace qeff::models {
namespace {

TEST(Llama2cStoriesTest, MatchesTheGguf) {
  std::string why;
  std::string bin =
      testing::SharedFile("models/stories260K/stories260K.bin", &why);
  if (bin.empty()) GTEST_SKIP() << why;
  auto ck = ReadLlama2c(bin);
  ASSERT_TRUE(ck.ok()) << ck.status();
  const Llama2cConfig& c = ck->config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.shared_classifier);

  auto g = ReadGguf(testing::Stories260KGguf());
  ASSERT_TRUE(g.ok()) << g.status();
  // Same weights, same (interleaved) Q/K row layout.
  const std::pair<const char*, const char*> kSame[] = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"model.layers.3.input_layernorm.weight", "blk.3.attn_norm.weight"},
      {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"},
      {"model.layers.4.self_attn.k_proj.weight", "blk.4.attn_k.weight"},
      {"model.layers.2.self_attn.v_proj.weight", "blk.2.attn_v.weight"},
      {"model.layers.1.self_attn.o_proj.weight", "blk.1.attn_output.weight"},
      {"model.layers.1.post_attention_layernorm.weight",
       "blk.1.ffn_norm.weight"},
      {"model.layers.4.mlp.gate_proj.weight", "blk.4.ffn_gate.weight"},
      {"model.layers.4.mlp.down_proj.weight", "blk.4.ffn_down.weight"},
      {"model.layers.4.mlp.up_proj.weight", "blk.4.ffn_up.weight"},
  };
  for (const auto& [ours, theirs] : kSame) {
    auto a = ck->Get(ours);
    auto b = g->GetTensor(theirs);
    ASSERT_TRUE(a.ok() && b.ok()) << ours;
    EXPECT_EQ(a->dims(), b->dims()) << ours;
    EXPECT_EQ(a->ToFloats(), b->ToFloats()) << ours;
  }
  EXPECT_EQ(ck->freq_cis_real.dims(), (std::vector<int64_t>{512, 4}));
}

TEST(Llama2cStoriesTest, ReadsTok512) {
  std::string why;
  std::string tok = testing::SharedFile("models/stories260K/tok512.bin", &why);
  if (tok.empty()) GTEST_SKIP() << why;
  auto v = ReadLlama2cTokenizer(tok);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->tokens.size(), 512u);
  EXPECT_EQ(v->max_token_length, 7);
  EXPECT_EQ(v->tokens[403].piece, " Once");
  EXPECT_EQ(v->tokens[13].piece, "<0x0A>");
}

}  // namespace
}  // namespace qeff::models
