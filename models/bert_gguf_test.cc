// BERT-family GGUF reading: names both ways, and bad files named (a missing
// key, a causal BERT, a classification head, a nomic-bert with separate
// q/k/v).
#include "models/bert_gguf.h"

#include <string>

#include "gtest/gtest.h"
#include "models/gguf_writer.h"
#include "models/model_loader.h"
#include "models/test_encoder.h"

namespace qeff::models {
namespace {

TEST(BertGguf, NamesMapToHuggingFace) {
  EXPECT_EQ(BertGgufToHfName("blk.3.attn_output_norm.bias"),
            "encoder.layer.3.attention.output.LayerNorm.bias");
  EXPECT_EQ(BertGgufToHfName("position_embd.weight"),
            "embeddings.position_embeddings.weight");
  EXPECT_EQ(BertGgufToHfName("blk.0.ffn_gate.weight"), "");
  EXPECT_EQ(NomicBertGgufToHfName("blk.1.attn_qkv.weight"),
            "encoder.layers.1.attn.Wqkv.weight");
  EXPECT_EQ(NomicBertGgufToHfName("blk.1.ffn_gate.weight"),
            "encoder.layers.1.mlp.fc12.weight");
  EXPECT_EQ(NomicBertGgufToHfName("blk.1.attn_q.weight"), "");
}

// A small bert GGUF with one metadata key or tensor changed.
std::string Variant(const std::string& name, const std::string& arch,
                    const std::function<void(GgufWriter*)>& edit) {
  TestBertSpec spec;
  spec.arch = arch;
  const std::string base = ::testing::TempDir() + "/" + name + ".base.gguf";
  EXPECT_TRUE(WriteTestBertGguf(spec, base).ok());
  auto f = ReadGguf(base);
  EXPECT_TRUE(f.ok());
  GgufWriter w;
  for (const auto& [k, v] : f->metadata()) w.Add(k, v);
  for (const GgufTensorInfo& t : f->tensors())
    EXPECT_TRUE(w.AddTensor(t.name, t.tensor).ok());
  edit(&w);
  const std::string path = ::testing::TempDir() + "/" + name + ".gguf";
  EXPECT_TRUE(w.WriteFile(path).ok());
  return path;
}

TEST(BertGguf, BadFilesAreNamed) {
  auto causal = Load(Variant("causal", "bert", [](GgufWriter* w) {
    w->Add("bert.attention.causal", GgufValue::Bool(true));
  }));
  ASSERT_FALSE(causal.ok());
  EXPECT_NE(causal.status().message().find("bert.attention.causal"),
            std::string::npos);
  auto head = Load(Variant("head", "bert", [](GgufWriter* w) {
    ASSERT_TRUE(
        w->AddTensor("cls.weight", ir::Tensor::Zeros(ir::DType::kF32, {2, 32}))
            .ok());
  }));
  ASSERT_FALSE(head.ok());
  EXPECT_NE(head.status().message().find("'cls.weight'"), std::string::npos);
  EXPECT_NE(head.status().message().find("classification head"),
            std::string::npos);
  auto qkv = Load(Variant("qkv", "nomic-bert", [](GgufWriter* w) {
    ASSERT_TRUE(w->AddTensor("blk.0.attn_q.weight",
                             ir::Tensor::Zeros(ir::DType::kF32, {32, 32}))
                    .ok());
  }));
  ASSERT_FALSE(qkv.ok());
  EXPECT_NE(qkv.status().message().find("blk.0.attn_q.weight"),
            std::string::npos);
  // A nomic-bert and a bert load with their families.
  auto ok = Load(Variant("ok", "nomic-bert", [](GgufWriter*) {}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->config.family, ModelFamily::kNomicBert);
  EXPECT_FLOAT_EQ(ok->config.nomic_bert.rope_theta, 1000.0f);
}

}  // namespace
}  // namespace qeff::models
