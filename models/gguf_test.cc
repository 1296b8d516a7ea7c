#include "models/gguf.h"

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

std::string WriteBytes(const std::string& name, const std::string& bytes) {
  std::string path = TmpPath(name);
  EXPECT_TRUE(base::WriteFileAtomically(path, bytes).ok());
  return path;
}

GgufWriter SampleWriter() {
  GgufWriter w;
  w.Add("general.architecture", GgufValue::String("llama"));
  w.Add("u8", GgufValue::U8(200));
  w.Add("i8", GgufValue::I8(-5));
  w.Add("u16", GgufValue::U16(60000));
  w.Add("i16", GgufValue::I16(-30000));
  w.Add("llama.block_count", GgufValue::U32(5));
  w.Add("i32", GgufValue::I32(-7));
  w.Add("u64", GgufValue::U64(1ull << 40));
  w.Add("i64", GgufValue::I64(-(1ll << 40)));
  w.Add("eps", GgufValue::F32(1e-5f));
  w.Add("f64", GgufValue::F64(0.25));
  w.Add("flag", GgufValue::Bool(true));
  w.Add("tokens", GgufValue::StringArray({"<unk>", "a",
                                          "\xe2\x96\x81"
                                          "b"}));
  w.Add("scores", GgufValue::F32Array({0, -1.5f, -2}));
  w.Add("types", GgufValue::I32Array({2, 1, 1}));
  w.Add("nested", GgufValue::Array(GgufType::kArray,
                                   {GgufValue::I32Array({1, 2}),
                                    GgufValue::Array(GgufType::kI32, {})}));
  return w;
}

TEST(GgufTest, RoundTripsMetadataAndTensors) {
  GgufWriter w = SampleWriter();
  ir::Tensor a = ir::Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(w.AddTensor("a", a).ok());
  ir::Tensor h = ir::Tensor::Zeros(ir::DType::kF16, {3});
  for (int i = 0; i < 3; ++i)
    h.mutable_data<uint16_t>()[i] = ir::FloatToHalf(0.5f * i);
  ASSERT_TRUE(w.AddTensor("h", h).ok());
  // One q8_0 row of 32 values: scale f16 + 32 int8.
  std::string q(34, '\0');
  uint16_t s = ir::FloatToHalf(2.0f);
  std::memcpy(&q[0], &s, 2);
  for (int i = 0; i < 32; ++i) q[2 + i] = static_cast<char>(i - 16);
  w.AddRawTensor("q", kGgmlQ8_0, {32, 1}, q);
  std::string path = TmpPath("rt.gguf");
  ASSERT_TRUE(w.WriteFile(path).ok());

  auto g = ReadGguf(path);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->alignment(), 32u);
  EXPECT_EQ(g->data_offset() % 32, 0u);
  EXPECT_EQ(*g->GetString("general.architecture"), "llama");
  EXPECT_EQ(*g->GetU32("llama.block_count"), 5u);
  EXPECT_EQ(*g->GetInt("u8"), 200);
  EXPECT_EQ(*g->GetInt("i8"), -5);
  EXPECT_EQ(*g->GetInt("u16"), 60000);
  EXPECT_EQ(*g->GetInt("i16"), -30000);
  EXPECT_EQ(*g->GetInt("i32"), -7);
  EXPECT_EQ(*g->GetInt("u64"), 1ll << 40);
  EXPECT_EQ(*g->GetInt("i64"), -(1ll << 40));
  EXPECT_FLOAT_EQ(*g->GetF32("eps"), 1e-5f);
  EXPECT_FLOAT_EQ(*g->GetF32("f64"), 0.25f);
  EXPECT_TRUE(*g->GetBool("flag"));
  EXPECT_EQ(*g->GetStringArray("tokens"),
            (std::vector<std::string>{"<unk>", "a",
                                      "\xe2\x96\x81"
                                      "b"}));
  EXPECT_EQ(*g->GetFloatArray("scores"), (std::vector<float>{0, -1.5f, -2}));
  EXPECT_EQ(*g->GetIntArray("types"), (std::vector<int64_t>{2, 1, 1}));
  const GgufValue* nested = g->Find("nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->array.size(), 2u);
  EXPECT_EQ(nested->array[0].array[1].i, 2);
  EXPECT_TRUE(nested->array[1].array.empty());
  EXPECT_EQ(g->metadata().size(), 16u);
  EXPECT_EQ(g->metadata()[0].first, "general.architecture");

  // Typed accessor errors name file and key.
  auto missing = g->GetU32("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(missing.status().message().find("rt.gguf"), std::string::npos);
  auto wrong = g->GetString("llama.block_count");
  EXPECT_NE(wrong.status().message().find("uint32"), std::string::npos)
      << wrong.status();
  EXPECT_FALSE(g->GetU32("i32").ok());  // negative
  EXPECT_FALSE(g->GetFloatArray("tokens").ok());

  ASSERT_EQ(g->tensors().size(), 3u);
  auto ta = g->GetTensor("a");
  ASSERT_TRUE(ta.ok());
  EXPECT_EQ(ta->dims(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(g->FindTensor("a")->ne, (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(ta->buffer()->is_mapped());
  EXPECT_EQ(ta->ToFloats(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto th = g->GetTensor("h");
  ASSERT_TRUE(th.ok());
  EXPECT_EQ(th->dtype(), ir::DType::kF16);
  EXPECT_EQ(th->ToFloats(), (std::vector<float>{0, 0.5f, 1}));
  auto tq = g->GetTensor("q");
  ASSERT_TRUE(tq.ok());
  EXPECT_EQ(tq->quant(), ir::QuantFormat::kQ8_0);
  EXPECT_EQ(tq->dims(), (std::vector<int64_t>{1, 32}));
  EXPECT_EQ(std::memcmp(tq->raw(), q.data(), 34), 0);
  for (const auto& t : g->tensors()) {
    EXPECT_EQ(t.tensor.buffer()->file_offset(), g->data_offset() + t.offset);
  }
  EXPECT_EQ(g->GetTensor("zzz").status().code(), absl::StatusCode::kNotFound);
}

TEST(GgufTest, QuantizedTypes) {
  struct Case {
    uint32_t ggml;
    ir::QuantFormat quant;
    int64_t values, bytes;
  };
  const Case cases[] = {{kGgmlQ8_0, ir::QuantFormat::kQ8_0, 32, 34},
                        {kGgmlQ4_0, ir::QuantFormat::kQ4_0, 32, 18},
                        {kGgmlQ4_K, ir::QuantFormat::kQ4_K, 256, 144},
                        {kGgmlQ5_K, ir::QuantFormat::kQ5_K, 256, 176},
                        {kGgmlQ6_K, ir::QuantFormat::kQ6_K, 256, 210}};
  GgufWriter w;
  for (const Case& c : cases) {
    // 3 rows of 2 blocks each.
    w.AddRawTensor(GgmlTypeName(c.ggml), c.ggml, {2 * c.values, 3},
                   std::string(6 * c.bytes, static_cast<char>(c.ggml)));
  }
  auto g = ReadGguf(WriteBytes("quant.gguf", w.Serialize()));
  ASSERT_TRUE(g.ok()) << g.status();
  for (const Case& c : cases) {
    auto t = g->GetTensor(GgmlTypeName(c.ggml));
    ASSERT_TRUE(t.ok()) << GgmlTypeName(c.ggml);
    EXPECT_EQ(t->quant(), c.quant);
    EXPECT_EQ(t->dtype(), ir::DType::kF32);
    EXPECT_EQ(t->dims(), (std::vector<int64_t>{3, 2 * c.values}));
    EXPECT_EQ(t->buffer()->size(), static_cast<size_t>(6 * c.bytes));
    EXPECT_EQ(t->raw()[0], c.ggml);
  }
  // Round trip through AddTensor keeps the format.
  GgufWriter w2;
  ASSERT_TRUE(w2.AddTensor("k", *g->GetTensor("q4_K")).ok());
  auto g2 = ReadGguf(WriteBytes("quant2.gguf", w2.Serialize()));
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ(g2->GetTensor("k")->quant(), ir::QuantFormat::kQ4_K);
  EXPECT_EQ(g2->FindTensor("k")->ggml_type, kGgmlQ4_K);
}

TEST(GgufTest, CustomAlignment) {
  GgufWriter w;
  w.SetAlignment(64);
  ASSERT_TRUE(w.AddTensor("x", ir::Tensor::F32({3}, {1, 2, 3})).ok());
  ASSERT_TRUE(w.AddTensor("y", ir::Tensor::F32({1}, {4})).ok());
  auto g = ReadGguf(WriteBytes("align.gguf", w.Serialize()));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->alignment(), 64u);
  EXPECT_EQ(g->data_offset() % 64, 0u);
  EXPECT_EQ(g->FindTensor("y")->offset, 64u);
  EXPECT_EQ(g->GetTensor("y")->ToFloats(), std::vector<float>{4});
}

TEST(GgufTest, EveryTruncationIsAnError) {
  GgufWriter w = SampleWriter();
  ASSERT_TRUE(
      w.AddTensor("a", ir::Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6})).ok());
  std::string bytes = w.Serialize();
  for (size_t n = 0; n + 1 < bytes.size(); n += (n < 600 ? 1 : 7)) {
    // The last tensor's bytes end before the padding; shorter must fail.
    if (n >= bytes.size() - 32 + 24) continue;
    auto g = ReadGguf(WriteBytes("trunc.gguf", bytes.substr(0, n)));
    ASSERT_FALSE(g.ok()) << "prefix " << n;
    EXPECT_NE(g.status().message().find("trunc.gguf"), std::string::npos)
        << g.status();
  }
}

std::string Mutate(std::string s, size_t at, const void* v, size_t n) {
  std::memcpy(&s[at], v, n);
  return s;
}

TEST(GgufTest, BadHeaders) {
  GgufWriter w;
  w.Add("k", GgufValue::U32(1));
  ASSERT_TRUE(w.AddTensor("t", ir::Tensor::F32({2}, {1, 2})).ok());
  std::string good = w.Serialize();
  ASSERT_TRUE(ReadGguf(WriteBytes("good.gguf", good)).ok());

  auto msg = [](const std::string& name, const std::string& bytes) {
    auto g = ReadGguf(WriteBytes(name, bytes));
    EXPECT_FALSE(g.ok()) << name;
    return std::string(g.status().message());
  };
  EXPECT_NE(msg("magic.gguf", Mutate(good, 0, "GGML", 4)).find("bad magic"),
            std::string::npos);
  uint32_t v1 = 1, v9 = 9, vbe = 0x03000000;
  EXPECT_NE(msg("v1.gguf", Mutate(good, 4, &v1, 4)).find("version 1"),
            std::string::npos);
  EXPECT_NE(msg("v9.gguf", Mutate(good, 4, &v9, 4)).find("version 9"),
            std::string::npos);
  EXPECT_NE(msg("vbe.gguf", Mutate(good, 4, &vbe, 4)).find("big-endian"),
            std::string::npos);
  uint64_t huge = 1ull << 60;
  EXPECT_NE(msg("nt.gguf", Mutate(good, 8, &huge, 8)).find("tensor_count"),
            std::string::npos);
  EXPECT_NE(
      msg("nkv.gguf", Mutate(good, 16, &huge, 8)).find("metadata_kv_count"),
      std::string::npos);
  // Key "k": 24 + 8 + 1 = 33: type at 33, value at 37.
  uint32_t badtype = 99;
  EXPECT_NE(msg("type.gguf", Mutate(good, 33, &badtype, 4))
                .find("unknown value type 99"),
            std::string::npos);
  // Tensor info: name at 41 (8 + 1), n_dims at 50, ne at 54, type 62,
  // offset 66.
  uint32_t dims9 = 9;
  EXPECT_NE(msg("ndims.gguf", Mutate(good, 50, &dims9, 4)).find("n_dims 9"),
            std::string::npos);
  int64_t neg = -2;
  EXPECT_NE(msg("neg.gguf", Mutate(good, 54, &neg, 8)).find("negative"),
            std::string::npos);
  uint32_t q41 = kGgmlQ4_1;
  std::string m = msg("q41.gguf", Mutate(good, 62, &q41, 4));
  EXPECT_NE(m.find("tensor 't'"), std::string::npos) << m;
  EXPECT_NE(m.find("q4_1"), std::string::npos) << m;
  uint64_t off = 4096;
  m = msg("off.gguf", Mutate(good, 66, &off, 8));
  EXPECT_NE(m.find("tensor 't': data range"), std::string::npos) << m;
  EXPECT_NE(m.find("past end of file"), std::string::npos) << m;
  uint64_t mis = 4;
  EXPECT_NE(msg("mis.gguf", Mutate(good, 66, &mis, 8)).find("alignment"),
            std::string::npos);
  int64_t big = int64_t{1} << 40;
  m = msg("bigdim.gguf", Mutate(good, 54, &big, 8));
  EXPECT_NE(m.find("past end of file"), std::string::npos) << m;
}

TEST(GgufTest, BadAlignmentAndArrays) {
  GgufWriter w;
  w.Add("general.alignment", GgufValue::U32(24));
  EXPECT_NE(ReadGguf(WriteBytes("al.gguf", w.Serialize()))
                .status()
                .message()
                .find("power of two"),
            std::string::npos);
  GgufWriter w2;
  w2.Add("arr", GgufValue::I32Array({1, 2, 3}));
  std::string s = w2.Serialize();
  // count at 24 + 8 + 3 + 4 + 4 = 43.
  uint64_t huge = 1ull << 50;
  auto g = ReadGguf(WriteBytes("arr.gguf", Mutate(s, 43, &huge, 8)));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("metadata 'arr': array count"),
            std::string::npos)
      << g.status();
  // Quantized tensor whose row is not a whole number of blocks.
  GgufWriter w3;
  w3.AddRawTensor("q", kGgmlQ4_0, {16}, std::string(18, '\0'));
  g = ReadGguf(WriteBytes("qrow.gguf", w3.Serialize()));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("tensor 'q'"), std::string::npos)
      << g.status();
  EXPECT_EQ(ReadGguf(TmpPath("does_not_exist.gguf")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(GgufBlockName, SplitsLayerAndRole) {
  absl::string_view layer, role;
  ASSERT_TRUE(SplitGgufBlockName("blk.12.attn_q.weight", &layer, &role));
  EXPECT_EQ(layer, "12");
  EXPECT_EQ(role, "attn_q.weight");
  EXPECT_FALSE(SplitGgufBlockName("token_embd.weight", &layer, &role));
  EXPECT_FALSE(SplitGgufBlockName("blk.x.attn_q.weight", &layer, &role));
  EXPECT_FALSE(SplitGgufBlockName("blk..attn_q.weight", &layer, &role));
  EXPECT_FALSE(SplitGgufBlockName("blk.3", &layer, &role));
}

}  // namespace
}  // namespace qeff::models
