#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "gtest/gtest.h"
#include "ir/buffer.h"
#include "ir/dtype.h"
#include "ir/graph.h"
#include "ir/shape.h"
#include "ir/tensor.h"

namespace qeff::ir {
namespace {

TEST(DType, HalfRoundTrip) {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f})
    EXPECT_EQ(HalfToFloat(FloatToHalf(v)), v) << v;
  EXPECT_EQ(HalfToFloat(FloatToHalf(1e6f)), INFINITY);
  EXPECT_EQ(FloatToHalf(1.0f + 1.0f / 4096), FloatToHalf(1.0f));  // ties even
  EXPECT_EQ(BFloat16ToFloat(FloatToBFloat16(1.5f)), 1.5f);
  EXPECT_EQ(*DTypeFromOnnx(DTypeToOnnx(DType::kBF16)), DType::kBF16);
  EXPECT_FALSE(ParseDType("f33").ok());
}

TEST(Shape, SymbolicAndDerived) {
  Dim ctx = Dim::Symbol("ctx_len");
  Dim d = ctx - 1;
  EXPECT_EQ(d.ToString(), "(ctx_len - 1)");
  EXPECT_EQ(*d.Evaluate({{"ctx_len", 128}}), 127);
  EXPECT_FALSE(d.Evaluate({}).ok());
  EXPECT_EQ((Dim(3) * 4).value(), 12);
  auto s = Shape::Parse("[batch_size, (ctx_len - 1), 8, ?, (a // 2)]");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToString(), "[batch_size, (ctx_len - 1), 8, ?, (a // 2)]");
  EXPECT_EQ(s->Bind({{"batch_size", 2}, {"ctx_len", 9}, {"a", 7}}).ToString(),
            "[2, 8, 8, ?, 3]");
  EXPECT_EQ(Shape::Parse("[*]")->ranked(), false);
  EXPECT_FALSE(Shape::Parse("[1, +]").ok());
}

TEST(Tensor, OwnedAndMapped) {
  Tensor t = Tensor::F32({2, 2}, {1, 2, 3, 4});
  Tensor u = t;  // shares storage
  EXPECT_EQ(u.raw(), t.raw());
  EXPECT_EQ(t.GetDouble(3), 4.0);
  EXPECT_FALSE(t.Reshaped({3}).ok());
  std::string path = ::testing::TempDir() + "/mapped.bin";
  {
    std::ofstream f(path, std::ios::binary);
    float v[3] = {5, 6, 7};
    f.write(reinterpret_cast<char*>(v), sizeof(v));
  }
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok());
  auto buf = Buffer::FromMapped(*file, 4, 8);
  ASSERT_TRUE(buf.ok());
  auto m = Tensor::FromBuffer(DType::kF32, {2}, *buf);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->GetDouble(0), 6.0);
  EXPECT_TRUE((*buf)->is_mapped());
  EXPECT_FALSE(Buffer::FromMapped(*file, 8, 8).ok());
  EXPECT_FALSE(MappedFile::Open(path + ".missing").ok());
  // Releasing a window's pages (advice) keeps its bytes readable; on owned
  // buffers it does nothing.
  (*buf)->ReleasePages();
  EXPECT_EQ(m->GetDouble(1), 7.0);
  t.buffer()->ReleasePages();
  EXPECT_EQ(t.GetDouble(3), 4.0);
  auto q = Tensor::FromQuantized(QuantFormat::kQ8_0, DType::kF32, {2, 32},
                                 Buffer::Allocate(68));
  EXPECT_TRUE(q.ok()) << q.status();
  EXPECT_FALSE(Tensor::FromQuantized(QuantFormat::kQ8_0, DType::kF32, {2, 30},
                                     Buffer::Allocate(68))
                   .ok());
}

TEST(Buffer, ReleasedPagesOfAMappedWindowReadBackFromTheFile) {
  const std::string path = ::testing::TempDir() + "/pages.bin";
  std::vector<float> v(1 << 18);  // 1 MiB: many whole pages
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(v.data()), 4 * v.size());
  }
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok());
  auto buf = Buffer::FromMapped(*file, 100, 4 * v.size() - 200);
  ASSERT_TRUE(buf.ok());
  double sum = 0;
  for (size_t i = 0; i < (*buf)->size(); i += 64) sum += (*buf)->data()[i];
  (*buf)->ReleasePages();
  double again = 0;
  for (size_t i = 0; i < (*buf)->size(); i += 64) again += (*buf)->data()[i];
  EXPECT_EQ(sum, again);
  EXPECT_EQ(0, std::memcmp((*buf)->data(),
                           reinterpret_cast<const uint8_t*>(v.data()) + 100,
                           (*buf)->size()));
}

TEST(Graph, UsesTopoAndDeadCode) {
  Graph g;
  ValueId x = g.AddInput("x", {DType::kF32, Shape({2})});
  ValueId w = g.AddConstant("w", Tensor::F32({2}, {1, 1}));
  NodeId a = g.AddNode("Add", {x, w}, 1, {}, "a");
  NodeId b = g.AddNode("Mul", {g.node(a).outputs[0], g.node(a).outputs[0]});
  NodeId unused = g.AddNode("Neg", {x});
  g.AddOutput(g.node(b).outputs[0]);
  EXPECT_EQ(g.value(g.node(a).outputs[0]).uses.size(), 2u);
  auto order = g.TopologicalOrder();
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(*order, (std::vector<NodeId>{a, b, unused}));
  EXPECT_TRUE(g.RemoveDeadCode());
  EXPECT_TRUE(g.node(unused).dead);
  EXPECT_EQ(g.value(x).uses.size(), 1u);
  Graph copy = g;
  copy.ReplaceAllUsesWith(copy.node(a).outputs[0], x);
  EXPECT_EQ(copy.value(x).uses.size(), 3u);
  EXPECT_EQ(g.value(x).uses.size(), 1u);
}

}  // namespace
}  // namespace qeff::ir
