#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
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

// Scratch-file storage: zeroed, writable, and its written bytes survive
// ReleasePages (read back from the unnamed file), which drops them from
// the process's resident set. A tmpfs
// directory is refused (its pages would stay in memory), and with no usable
// directory AllocateFileBacked gives owned storage.
TEST(Buffer, FileBackedScratchReleasesAndReadsBack) {
  const std::string dir = ::testing::TempDir();
  auto probe = MappedFile::CreateScratch(dir, 16);
  if (!probe.ok())
    GTEST_SKIP() << "no disk-backed test directory: " << probe.status();
  ::setenv("QEFF_SCRATCH_DIR", dir.c_str(), 1);
  const size_t n = 8 << 20;
  std::shared_ptr<Buffer> b = Buffer::AllocateFileBacked(n);
  ASSERT_TRUE(b->is_mapped());
  EXPECT_TRUE(b->is_scratch());
  EXPECT_EQ(b->size(), n);
  uint8_t* w = b->mutable_data();
  for (size_t i = 0; i < n; i += 4096) EXPECT_EQ(w[i], 0);
  for (size_t i = 0; i < n; ++i) w[i] = static_cast<uint8_t>(i * 7 + 3);
  // The process's resident pages (/proc/self/statm), before and after.
  auto resident = [] {
    std::ifstream f("/proc/self/statm");
    long size = 0, res = 0;
    f >> size >> res;
    return res;
  };
  const long before = resident();
  b->ReleasePages();
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_LE(resident(), before - static_cast<long>(n / page) + 16);
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i)
    bad += b->data()[i] != static_cast<uint8_t>(i * 7 + 3);
  EXPECT_EQ(bad, 0u);
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string saved_tmpdir = tmpdir ? tmpdir : "";
  ::setenv("QEFF_SCRATCH_DIR", "/nonexistent/qeff", 1);
  ::setenv("TMPDIR", "/nonexistent/qeff", 1);
  if (MappedFile::CreateScratch("/var/tmp", 1).ok()) {
    EXPECT_TRUE(Buffer::AllocateFileBacked(64)->is_mapped());  // /var/tmp
  }
  ::unsetenv("QEFF_SCRATCH_DIR");
  if (tmpdir)
    ::setenv("TMPDIR", saved_tmpdir.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  struct statfs fs;
  if (::statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC) {
    auto shm = MappedFile::CreateScratch("/dev/shm", 64);
    EXPECT_EQ(shm.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(shm.status().message().find("/dev/shm"), std::string::npos);
  }
  EXPECT_FALSE(MappedFile::CreateScratch("/nonexistent/qeff", 64).ok());
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
