// JSON, safetensors (single, sharded, bad input), HF configs, hub ids.
#include <cstdlib>
#include <fstream>

#include "base/files.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "models/gguf_writer.h"
#include "models/hf_config.h"
#include "models/hf_hub.h"
#include "models/safetensors.h"

namespace qeff::models {
namespace {

std::string Tmp(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

void Write(const std::string& path, const std::string& bytes) {
  ASSERT_TRUE(base::WriteFileAtomically(path, bytes).ok());
}

// 8-byte length + header + data.
std::string File(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

TEST(JsonTest, ParsesValuesAndKeepsIntegersExact) {
  auto j = base::ParseJson(
      R"({"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00\n"], "big": 9007199254740993})");
  ASSERT_TRUE(j.ok()) << j.status();
  const auto& a = j->Find("a")->array();
  EXPECT_EQ(*a[0].AsInt64(), 1);
  EXPECT_EQ(a[1].number(), -2500.0);
  EXPECT_FALSE(a[1].AsInt64().ok());
  EXPECT_TRUE(a[2].bool_value());
  EXPECT_TRUE(a[3].is_null());
  EXPECT_EQ(a[4].string_value(), "x\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(*j->Find("big")->AsInt64(), 9007199254740993LL);
}

TEST(JsonTest, RejectsMalformedText) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"",
                          "{\"a\":1,\"a\":2}", "[1] 2", "\"\\ud800\"", "tru"}) {
    EXPECT_FALSE(base::ParseJson(bad).ok()) << bad;
  }
  EXPECT_FALSE(base::ParseJson(std::string(100000, '[')).ok());  // depth limit
}

TEST(SafetensorsTest, RoundTripIsZeroCopy) {
  ir::Tensor a = ir::Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6});
  ir::Tensor h = ir::Tensor::Zeros(ir::DType::kF16, {4});
  auto bytes = SerializeSafetensors({{"a", a}, {"h", h}}, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok());
  Write(Tmp("rt.safetensors"), *bytes);
  auto f = ReadSafetensors(Tmp("rt.safetensors"));
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->tensors.size(), 2u);
  EXPECT_EQ(f->tensors[0].second.ToFloats(), a.ToFloats());
  EXPECT_TRUE(f->tensors[0].second.buffer()->is_mapped());
  EXPECT_EQ(f->tensors[1].second.dtype(), ir::DType::kF16);
  EXPECT_EQ(f->metadata[0].second, "pt");
}

void ExpectError(const std::string& name, const std::string& bytes,
                 const std::string& needle) {
  const std::string path = Tmp(name);
  Write(path, bytes);
  auto f = ReadSafetensors(path);
  ASSERT_FALSE(f.ok()) << name;
  EXPECT_NE(f.status().message().find(path), std::string::npos) << f.status();
  EXPECT_NE(f.status().message().find(needle), std::string::npos) << f.status();
}

TEST(SafetensorsTest, BadFilesAreNamedErrors) {
  const std::string ok_hdr =
      R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ExpectError("short.st", "abc", "truncated");
  // Header length far past the file (no huge allocation).
  std::string lie = File(ok_hdr, std::string(8, '\0'));
  lie[7] = 0x7f;
  ExpectError("lie.st", lie, "header length");
  ExpectError("json.st", File("{\"w\":", ""), "JSON error");
  ExpectError("trunc.st", File(ok_hdr, std::string(4, '\0')), "run past");
  ExpectError("size.st",
              File(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                   std::string(8, '\0')),
              "needs 12 bytes");
  ExpectError(
      "dtype.st",
      File(R"({"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})",
           std::string(8, '\0')),
      "F8_E4M3");
  ExpectError(
      "huge.st",
      File(
          R"({"w":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})",
          std::string(8, '\0')),
      "absurdly large");
  ExpectError("neg.st",
              File(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
                   std::string(8, '\0')),
              "data_offsets");
}

TEST(SafetensorsTest, ShardedFolder) {
  const std::string dir = Tmp("sharded");
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  auto s1 = SerializeSafetensors({{"a", ir::Tensor::F32({1}, {1})}});
  auto s2 = SerializeSafetensors({{"b", ir::Tensor::F32({1}, {2})}});
  Write(dir + "/m-1.safetensors", *s1);
  Write(dir + "/m-2.safetensors", *s2);
  Write(
      dir + "/model.safetensors.index.json",
      R"({"metadata":{},"weight_map":{"a":"m-1.safetensors","b":"m-2.safetensors"}})");
  auto w = ReadSafetensorsFolder(dir);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->at("b").ToFloats()[0], 2.0f);
  Write(dir + "/model.safetensors.index.json",
        R"({"weight_map":{"a":"m-1.safetensors","c":"m-3.safetensors"}})");
  auto missing = ReadSafetensorsFolder(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("shard 'm-3.safetensors'"),
            std::string::npos)
      << missing.status();
  Write(dir + "/model.safetensors.index.json",
        R"({"weight_map":{"zz":"m-1.safetensors"}})");
  auto absent = ReadSafetensorsFolder(dir);
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("'zz'"), std::string::npos);
}

TEST(HfConfigTest, ParsesLlama3RopeAndQwenWindows) {
  auto j = base::ParseJson(
      R"({"model_type":"llama","architectures":["LlamaForCausalLM"],
    "vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":2,
    "num_attention_heads":2,"num_key_value_heads":1,"head_dim":null,
    "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
    "high_freq_factor":4.0,"original_max_position_embeddings":8192}})");
  ASSERT_TRUE(j.ok());
  auto c = ParseHfModelConfig(*j, "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->llama.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_EQ(c->num_key_value_heads, 1);
  auto q =
      base::ParseJson(R"({"model_type":"qwen2","vocab_size":10,"hidden_size":8,
    "intermediate_size":16,"num_hidden_layers":3,"num_attention_heads":2,
    "use_sliding_window":true,"sliding_window":4,"max_window_layers":1})");
  auto qc = ParseHfModelConfig(*q, "config.json");
  ASSERT_TRUE(qc.ok()) << qc.status();
  EXPECT_TRUE(qc->llama.qkv_bias);
  EXPECT_FALSE(qc->llama.LayerIsWindowed(0));
  EXPECT_TRUE(qc->llama.LayerIsWindowed(2));
  auto yarn =
      base::ParseJson(R"({"model_type":"llama","vocab_size":10,"hidden_size":8,
    "intermediate_size":16,"num_hidden_layers":2,"num_attention_heads":2,
    "rope_scaling":{"type":"yarn","factor":4}})");
  auto yc = ParseHfModelConfig(*yarn, "cfg.json");
  ASSERT_FALSE(yc.ok());
  EXPECT_NE(yc.status().message().find("yarn"), std::string::npos);
}

TEST(HfConfigTest, GenerationAndTokenizerConfigs) {
  auto g = ParseGenerationConfig(
      *base::ParseJson(
          R"({"bos_token_id":1,"eos_token_id":[2,7],"temperature":0.6})"),
      "generation_config.json");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->eos_token_ids, (std::vector<int64_t>{2, 7}));
  EXPECT_FLOAT_EQ(*g->temperature, 0.6f);
  auto bad = ParseGenerationConfig(*base::ParseJson(R"({"eos_token_id":"x"})"),
                                   "generation_config.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "generation_config.json: field 'eos_token_id'"),
            std::string::npos);
  auto t = ParseTokenizerConfig(
      *base::ParseJson(R"({"add_bos_token":true,"bos_token":{"content":"<s>"},
                    "model_max_length":1e30})"),
      "tokenizer_config.json");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->bos_token, "<s>");
  EXPECT_TRUE(*t->add_bos_token);
  EXPECT_FALSE(t->model_max_length.has_value());
}

TEST(HfHubTest, IdsAndPaths) {
  EXPECT_TRUE(LooksLikeHubId("meta-llama/Llama-3.2-1B"));
  EXPECT_TRUE(LooksLikeHubId("gpt2"));
  EXPECT_TRUE(LooksLikeHubId("org/name@v1.0"));
  EXPECT_FALSE(LooksLikeHubId("/abs/path"));
  EXPECT_FALSE(LooksLikeHubId("../x"));
  EXPECT_FALSE(LooksLikeHubId("a/b/c"));
  auto r = ResolveHubSnapshot("org/none", Tmp("empty_hub"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace qeff::models
