#include "models/llama2c.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/files.h"
#include "gtest/gtest.h"
#include "models/gguf_writer.h"

namespace qeff::models {
namespace {

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::string Write(const std::string& name, const std::string& bytes) {
  std::string path = TmpPath(name);
  EXPECT_TRUE(base::WriteFileAtomically(path, bytes).ok());
  return path;
}

template <typename T>
void Put(std::string* s, T v) {
  s->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// dim 8, hidden 12, 2 layers, 2 heads, 1 kv head, vocab 10, seq 4.
// Every float is its index in the weight section.
std::string TinyCheckpoint(bool shared, int64_t* n_floats) {
  std::string s;
  for (int32_t v : {8, 12, 2, 2, 1, shared ? 10 : -10, 4}) Put(&s, v);
  const int64_t D = 8, F = 12, L = 2, KV = 4, V = 10, S = 4, HS2 = 2;
  int64_t n = V * D + L * D + L * D * D + 2 * L * KV * D + L * D * D + L * D +
              3 * L * F * D + D + 2 * S * HS2 + (shared ? 0 : V * D);
  for (int64_t i = 0; i < n; ++i) Put<float>(&s, static_cast<float>(i));
  *n_floats = n;
  return s;
}

TEST(Llama2cTest, ReadsSharedCheckpoint) {
  int64_t n;
  auto ck = ReadLlama2c(Write("tiny.bin", TinyCheckpoint(true, &n)));
  ASSERT_TRUE(ck.ok()) << ck.status();
  const Llama2cConfig& c = ck->config;
  EXPECT_EQ(c.dim, 8);
  EXPECT_EQ(c.hidden_dim, 12);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 2);
  EXPECT_EQ(c.n_kv_heads, 1);
  EXPECT_EQ(c.vocab_size, 10);
  EXPECT_EQ(c.seq_len, 4);
  EXPECT_TRUE(c.shared_classifier);
  EXPECT_EQ(c.head_size(), 4);
  EXPECT_EQ(c.kv_dim(), 4);
  EXPECT_EQ(ck->rope_layout, RopeLayout::kInterleaved);
  EXPECT_EQ(ck->weights.size(), 1u + 9u * 2u + 1u);
  EXPECT_EQ(ck->Find("lm_head.weight"), nullptr);

  auto first = [&](const std::string& name) {
    auto t = ck->Get(name);
    EXPECT_TRUE(t.ok()) << name;
    return t.ok() ? t->ToFloats()[0] : -1.f;
  };
  auto dims = [&](const std::string& name) { return ck->Get(name)->dims(); };
  // Offsets (in floats) of each stacked array.
  const int64_t emb = 0, att = 80, wq = 96, wk = 224, wv = 288, wo = 352,
                ffn = 480, w1 = 496, w2 = 688, w3 = 880, fin = 1072, fr = 1080,
                fi = 1088;
  EXPECT_EQ(first("model.embed_tokens.weight"), emb);
  EXPECT_EQ(dims("model.embed_tokens.weight"), (std::vector<int64_t>{10, 8}));
  EXPECT_EQ(first("model.layers.0.input_layernorm.weight"), att);
  EXPECT_EQ(first("model.layers.1.input_layernorm.weight"), att + 8);
  EXPECT_EQ(first("model.layers.1.self_attn.q_proj.weight"), wq + 64);
  EXPECT_EQ(first("model.layers.1.self_attn.k_proj.weight"), wk + 32);
  EXPECT_EQ(dims("model.layers.1.self_attn.k_proj.weight"),
            (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(first("model.layers.1.self_attn.v_proj.weight"), wv + 32);
  EXPECT_EQ(first("model.layers.0.self_attn.o_proj.weight"), wo);
  EXPECT_EQ(first("model.layers.1.post_attention_layernorm.weight"), ffn + 8);
  EXPECT_EQ(first("model.layers.1.mlp.gate_proj.weight"), w1 + 96);
  EXPECT_EQ(dims("model.layers.1.mlp.gate_proj.weight"),
            (std::vector<int64_t>{12, 8}));
  EXPECT_EQ(first("model.layers.1.mlp.down_proj.weight"), w2 + 96);
  EXPECT_EQ(dims("model.layers.1.mlp.down_proj.weight"),
            (std::vector<int64_t>{8, 12}));
  EXPECT_EQ(first("model.layers.1.mlp.up_proj.weight"), w3 + 96);
  EXPECT_EQ(first("model.norm.weight"), fin);
  EXPECT_EQ(ck->freq_cis_real.ToFloats()[0], fr);
  EXPECT_EQ(ck->freq_cis_imag.ToFloats()[0], fi);
  EXPECT_EQ(fi + 8, n);
  auto last = ck->Get("model.norm.weight")->ToFloats();
  EXPECT_EQ(last.back(), fin + 7);
  EXPECT_TRUE(ck->Get("model.norm.weight")->buffer()->is_mapped());
  EXPECT_EQ(ck->Get("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(Llama2cTest, ReadsUnsharedClassifier) {
  int64_t n;
  auto ck = ReadLlama2c(Write("unshared.bin", TinyCheckpoint(false, &n)));
  ASSERT_TRUE(ck.ok()) << ck.status();
  EXPECT_FALSE(ck->config.shared_classifier);
  EXPECT_EQ(ck->config.vocab_size, 10);
  auto cls = ck->Get("lm_head.weight");
  ASSERT_TRUE(cls.ok());
  EXPECT_EQ(cls->dims(), (std::vector<int64_t>{10, 8}));
  EXPECT_EQ(cls->ToFloats()[0], n - 80);
}

TEST(Llama2cTest, RejectsBadFiles) {
  int64_t n;
  std::string good = TinyCheckpoint(true, &n);
  auto err = [](const std::string& name, const std::string& bytes) {
    auto ck = ReadLlama2c(Write(name, bytes));
    EXPECT_FALSE(ck.ok()) << name;
    return std::string(ck.status().message());
  };
  std::string m = err("short.bin", good.substr(0, good.size() - 4));
  EXPECT_NE(m.find("freq_cis_imag"), std::string::npos) << m;
  EXPECT_NE(m.find("short.bin"), std::string::npos) << m;
  m = err("long.bin", good + "xxxx");
  EXPECT_NE(m.find("4 trailing bytes"), std::string::npos) << m;
  m = err("hdr.bin", good.substr(0, 20));
  EXPECT_NE(m.find("header needs 28"), std::string::npos) << m;
  std::string bad_heads = good;
  int32_t three = 3;
  std::memcpy(&bad_heads[12], &three, 4);
  m = err("heads.bin", bad_heads);
  EXPECT_NE(m.find("n_heads"), std::string::npos) << m;
  std::string zero_layers = good;
  int32_t zero = 0;
  std::memcpy(&zero_layers[8], &zero, 4);
  m = err("layers.bin", zero_layers);
  EXPECT_NE(m.find("n_layers = 0"), std::string::npos) << m;
  std::string v1;
  Put<uint32_t>(&v1, 0x616b3432);
  Put<int32_t>(&v1, 1);
  v1 += std::string(256, '\0');
  m = err("v1.bin", v1);
  EXPECT_NE(m.find("version 1"), std::string::npos) << m;
}

std::string TinyTokenizer() {
  std::string s;
  Put<int32_t>(&s, 5);
  auto tok = [&](float score, const std::string& p) {
    Put<float>(&s, score);
    Put<int32_t>(&s, p.size());
    s += p;
  };
  tok(0, "<unk>");
  tok(0, "\n<s>\n");
  tok(-1.5f, " a");
  tok(-2, "");
  return s;
}

TEST(Llama2cTokenizerTest, ReadsAndRejects) {
  auto v = ReadLlama2cTokenizer(Write("tok.bin", TinyTokenizer()));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->max_token_length, 5);
  ASSERT_EQ(v->tokens.size(), 4u);
  EXPECT_EQ(v->tokens[1].piece, "\n<s>\n");
  EXPECT_EQ(v->tokens[2].piece, " a");
  EXPECT_EQ(v->tokens[2].score, -1.5f);
  EXPECT_EQ(v->tokens[3].piece, "");

  std::string good = TinyTokenizer();
  for (size_t cut : {size_t{2}, size_t{6}, size_t{10}, size_t{14}}) {
    auto t = ReadLlama2cTokenizer(Write("tokcut.bin", good.substr(0, cut)));
    ASSERT_FALSE(t.ok()) << cut;
    EXPECT_NE(t.status().message().find("truncated"), std::string::npos)
        << t.status();
  }
  auto t = ReadLlama2cTokenizer(Write("tokcut.bin", good.substr(0, 16)));
  EXPECT_NE(t.status().message().find("token #0 needs 5 bytes"),
            std::string::npos)
      << t.status();
  std::string longtok = good;
  int32_t big = 9;
  std::memcpy(&longtok[8], &big, 4);
  t = ReadLlama2cTokenizer(Write("toklen.bin", longtok));
  EXPECT_NE(t.status().message().find("max_token_length"), std::string::npos)
      << t.status();
}

}  // namespace
}  // namespace qeff::models
