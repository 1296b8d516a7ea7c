#include "models/rope_layout.h"

#include <vector>

#include "gtest/gtest.h"

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
  EXPECT_FALSE(UnpermuteQK(ir::Tensor::I64({4}, {1, 2, 3, 4}), 1).ok());
}

}  // namespace
}  // namespace qeff::models
