#include "models/rope_layout.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "ir/quant.h"

namespace qeff::models {
namespace {

TEST(RopeLayoutTest, UnpermuteOrdersRowsEvenThenOdd) {
  // 2 heads of head_dim 4, rows of 2 values each; value = row index * 10.
  std::vector<float> v;
  for (int r = 0; r < 8; ++r) {
    v.push_back(r * 10);
    v.push_back(r * 10 + 1);
  }
  ir::Tensor w = ir::Tensor::F32({8, 2}, v);
  auto u = UnpermuteQK(w, 2);
  ASSERT_TRUE(u.ok()) << u.status();
  std::vector<float> got = u->ToFloats();
  const int order[] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int r = 0; r < 8; ++r) {
    EXPECT_EQ(got[2 * r], order[r] * 10) << r;
    EXPECT_EQ(got[2 * r + 1], order[r] * 10 + 1) << r;
  }
}

TEST(RopeLayoutTest, MatchesLlamaCppPermuteAndRoundTrips) {
  // llama.cpp permute: w.reshape(n_head, 2, hd/2, rest).swapaxes(1, 2).
  const int n_head = 3, hd = 6, in = 5;
  std::vector<float> v(n_head * hd * in);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5f * i - 7;
  ir::Tensor w = ir::Tensor::F32({n_head * hd, in}, v);
  auto p = PermuteQK(w, n_head);
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<float> pv = p->ToFloats();
  for (int h = 0; h < n_head; ++h)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < hd / 2; ++b)
        for (int c = 0; c < in; ++c) {
          // out[h, b, a, c] = in[h, a, b, c]
          float want = v[((h * 2 + a) * (hd / 2) + b) * in + c];
          float got = pv[((h * (hd / 2) + b) * 2 + a) * in + c];
          ASSERT_EQ(got, want);
        }
  auto back = UnpermuteQK(*p, n_head);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToFloats(), v);
  EXPECT_EQ(back->dims(), w.dims());
}

TEST(RopeLayoutTest, BiasAndErrors) {
  ir::Tensor b = ir::Tensor::F32({4}, {0, 1, 2, 3});
  auto u = UnpermuteQK(b, 1);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->ToFloats(), (std::vector<float>{0, 2, 1, 3}));
  EXPECT_FALSE(UnpermuteQK(ir::Tensor::F32({6, 1}, {0, 1, 2, 3, 4, 5}), 2)
                   .ok());  // odd head_dim
  EXPECT_FALSE(UnpermuteQK(b, 3).ok());
}

// Rows move whole: f16 stays f16 and GGUF blocks are moved, not decoded, so
// unpermuting a quantized tensor equals quantizing the unpermuted floats.
TEST(RopeLayoutTest, KeepsDtypeAndQuantizedBlocks) {
  std::vector<float> v(8 * 64);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = std::sin(0.37f * i) * (1 + i % 7);
  ir::Tensor f = ir::Tensor::F32({8, 64}, v);
  for (ir::QuantFormat q : {ir::QuantFormat::kQ8_0, ir::QuantFormat::kQ4_0}) {
    auto quant = ir::Quantize(f, q);
    ASSERT_TRUE(quant.ok()) << quant.status();
    auto un_q = UnpermuteQK(*quant, 2);
    ASSERT_TRUE(un_q.ok()) << un_q.status();
    EXPECT_EQ(un_q->quant(), q);
    auto a = ir::Dequantize(*un_q);
    auto deq = ir::Dequantize(*quant);
    ASSERT_TRUE(a.ok() && deq.ok());
    auto b = UnpermuteQK(*deq, 2);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(a->ToFloats(), b->ToFloats());
    auto back = PermuteQK(*un_q, 2);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(0, std::memcmp(back->raw(), quant->raw(), quant->byte_size()));
  }
  ir::Tensor h = ir::Tensor::Zeros(ir::DType::kF16, {4, 2});
  auto uh = UnpermuteQK(h, 1);
  ASSERT_TRUE(uh.ok());
  EXPECT_EQ(uh->dtype(), ir::DType::kF16);
}

}  // namespace
}  // namespace qeff::models
