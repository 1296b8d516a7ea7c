// qeff's GGUF block dequantization (ir::Dequantize) vs llama.cpp's gguf-py
// (gguf.quants.dequantize, numpy), bit for bit. For each of Q8_0, Q4_0,
// Q4_K, Q5_K, Q6_K: seeded random blocks (random bytes for quants and
// sub-block scales; every f16 d/dmin a random finite half, subnormals and
// negatives included) are written with GgufWriter, read back with qeff's
// GGUF reader and dequantized by qeff, and read and dequantized by
// tests/quant_peer/gguf_dequant.py; the float32 bytes must be identical.
//
// Needs $QEFF_PEERS_DIR/llama.cpp/gguf-py (setup.sh clones it) and Debian's
// /usr/bin/python3 with numpy; skips with a reason otherwise.
#include <sys/stat.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "gtest/gtest.h"
#include "ir/dtype.h"
#include "ir/quant.h"
#include "ir/tensor.h"
#include "models/gguf.h"
#include "models/gguf_writer.h"
#include "tests/util/test_util.h"

namespace qeff {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

// A random finite half (any sign, normal or subnormal, zero included).
uint16_t RandomFiniteHalf(std::mt19937& rng) {
  std::uniform_int_distribution<uint32_t> bits(0, 0xFFFF);
  while (true) {
    const uint16_t h = static_cast<uint16_t>(bits(rng));
    if ((h & 0x7C00) != 0x7C00) return h;  // exponent 31 is inf/NaN
  }
}

// Offsets of the f16 fields in one block of each format (ir/quant.h).
std::vector<int> HalfOffsets(ir::QuantFormat f) {
  switch (f) {
    case ir::QuantFormat::kQ8_0:
    case ir::QuantFormat::kQ4_0:
      return {0};
    case ir::QuantFormat::kQ4_K:
    case ir::QuantFormat::kQ5_K:
      return {0, 2};  // d, dmin
    case ir::QuantFormat::kQ6_K:
      return {208};  // d after ql[128], qh[64], scales[16]
    default:
      return {};
  }
}

// Random blocks of `format` for a [rows, cols] tensor.
ir::Tensor RandomQuantized(ir::QuantFormat format, int64_t rows, int64_t cols,
                           uint32_t seed) {
  const ir::QuantBlockInfo info = ir::QuantInfo(format);
  const int64_t blocks = rows * cols / info.block_values;
  auto buf = ir::Buffer::Allocate(blocks * info.block_bytes);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint32_t> byte(0, 255);
  uint8_t* p = buf->mutable_data();
  for (size_t i = 0; i < buf->size(); ++i)
    p[i] = static_cast<uint8_t>(byte(rng));
  const std::vector<int> halves = HalfOffsets(format);
  for (int64_t b = 0; b < blocks; ++b) {
    for (int off : halves) {
      const uint16_t h = RandomFiniteHalf(rng);
      std::memcpy(p + b * info.block_bytes + off, &h, 2);
    }
  }
  auto t = ir::Tensor::FromQuantized(format, ir::DType::kF32, {rows, cols},
                                     std::move(buf));
  QEFF_CHECK(t.ok());
  return *std::move(t);
}

struct Case {
  ir::QuantFormat format;
  const char* ggml_name;  // gguf-py's GGMLQuantizationType name
  int64_t rows, cols;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.ggml_name; }

class GgufDequantPeerTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    std::string why;
    std::string peers =
        testing::PeersDir("llama.cpp/gguf-py/gguf/quants.py", &why);
    if (peers.empty()) {
      GTEST_SKIP()
          << why << " (setup.sh clones llama.cpp from node-llama-cpp's bundle)";
    }
    gguf_py_ = absl::StrCat(peers, "/llama.cpp/gguf-py");
    int rc;
    testing::RunCommand(absl::StrCat(kPython, " -c 'import numpy' 2>/dev/null"),
                        &rc);
    if (rc != 0) {
      GTEST_SKIP() << kPython << " cannot import numpy (install python3-numpy; "
                   << "setup.sh does)";
    }
  }
  std::string gguf_py_;
};

TEST_P(GgufDequantPeerTest, BitExactWithGgufPy) {
  const Case& c = GetParam();
  const std::string name(ir::QuantFormatName(c.format));
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp ? tmp : "/tmp", "/quant_peer_", name);
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/blocks.gguf";

  ir::Tensor q = RandomQuantized(c.format, c.rows, c.cols,
                                 1234u + static_cast<uint32_t>(c.format));
  models::GgufWriter w;
  w.Add("general.architecture", models::GgufValue::String("qeff-quant-test"));
  ASSERT_TRUE(w.AddTensor(name, q).ok());
  ASSERT_TRUE(w.WriteFile(path).ok());

  // qeff: through its own GGUF reader (zero-copy tensor), then Dequantize.
  auto file = models::ReadGguf(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto read = file->GetTensor(name);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->quant(), c.format);
  ASSERT_EQ(read->byte_size(), q.byte_size());
  ASSERT_EQ(std::memcmp(read->raw(), q.raw(), q.byte_size()), 0);
  auto ours = ir::Dequantize(*read);
  ASSERT_TRUE(ours.ok()) << ours.status();
  ASSERT_EQ(ours->dtype(), ir::DType::kF32);
  const int64_t n = c.rows * c.cols;
  ASSERT_EQ(ours->num_elements(), n);

  // llama.cpp's gguf-py.
  int rc;
  const std::string out = testing::RunCommand(
      absl::StrCat("PYTHONPATH=", gguf_py_, " ", kPython, " ",
                   testing::Runfile("tests/quant_peer/gguf_dequant.py"), " ",
                   path, " ", dir, " 2>&1"),
      &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, absl::StrCat(name, " ", c.ggml_name, " ", n, "\n"));
  std::ifstream in(dir + "/" + name + ".f32", std::ios::binary);
  ASSERT_TRUE(in) << "gguf_dequant.py wrote no " << name << ".f32";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string theirs = ss.str();
  ASSERT_EQ(theirs.size(), static_cast<size_t>(n) * 4);

  const float* a = ours->data<float>();
  const float* b = reinterpret_cast<const float*>(theirs.data());
  int64_t mismatches = 0, first = -1, nonfinite = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::memcmp(&a[i], &b[i], 4) != 0) {
      if (first < 0) first = i;
      ++mismatches;
    }
    if (!std::isfinite(a[i])) ++nonfinite;
  }
  std::printf(
      "%-5s %lld blocks, %lld values: %s (%lld mismatching)\n", name.c_str(),
      static_cast<long long>(n / ir::QuantInfo(c.format).block_values),
      static_cast<long long>(n), mismatches == 0 ? "bit-exact" : "DIFFERENT",
      static_cast<long long>(mismatches));
  EXPECT_EQ(nonfinite, 0);
  EXPECT_EQ(mismatches, 0) << absl::StrFormat(
      "first at %d: qeff %.9g vs gguf-py %.9g", first,
      first >= 0 ? a[first] : 0.f, first >= 0 ? b[first] : 0.f);
}

INSTANTIATE_TEST_SUITE_P(
    Formats, GgufDequantPeerTest,
    ::testing::Values(Case{ir::QuantFormat::kQ8_0, "Q8_0", 64, 1024},
                      Case{ir::QuantFormat::kQ4_0, "Q4_0", 64, 1024},
                      Case{ir::QuantFormat::kQ4_K, "Q4_K", 32, 4096},
                      Case{ir::QuantFormat::kQ5_K, "Q5_K", 32, 4096},
                      Case{ir::QuantFormat::kQ6_K, "Q6_K", 32, 4096}),
    [](const ::testing::TestParamInfo<Case>& i) {
      return std::string(i.param.ggml_name);
    });

}  // namespace
}  // namespace qeff
