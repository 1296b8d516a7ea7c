// The cpu driver's Conv: 1-D convolution X [N, C, L] * W [M, C/group, K]
// (+ B [M]) → Y [N, M, O], f32, with stride, dilation, explicit begin
// padding (the end padding is implied by O) and groups — the wav2vec2 /
// HuBERT feature encoder and grouped positional convolution. Other ranks
// are rejected at compile (lower.cc). Work is split over (batch, output
// channel) rows; each output element sums channels then taps in a fixed
// order, so results do not depend on the thread count.
#include <algorithm>
#include <vector>

#include "hw/cpu/kernels.h"

namespace qeff::hw::cpu {
namespace {

// ints: stride, pad_begin, dilation, group.
absl::Status Conv1d(const KernelCtx& k) {
  const std::vector<int64_t>& xd = k.in[0].dims();
  const std::vector<int64_t>& wd = k.in[1].dims();
  const std::vector<int64_t>& yd = k.out[0].dims();
  if (xd.size() != 3 || wd.size() != 3 || yd.size() != 3)
    return KernelError(k, "cpu Conv is 1-D ([N, C, L] inputs)");
  const int64_t stride = k.step.ints.at(0), pad = k.step.ints.at(1),
                dil = k.step.ints.at(2), group = k.step.ints.at(3);
  const int64_t N = xd[0], C = xd[1], L = xd[2], M = wd[0], CG = wd[1],
                K = wd[2], O = yd[2];
  if (group < 1 || CG * group != C || M % group != 0 || yd[1] != M)
    return KernelError(k, "conv channels do not match the groups");
  const float* x = k.in[0].in<float>();
  const float* w = k.in[1].in<float>();
  const float* bias =
      k.in.size() > 2 && k.in[2].data ? k.in[2].in<float>() : nullptr;
  float* y = k.out[0].out<float>();
  const int64_t mg = M / group;
  ParallelFor(N * M, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / M, m = r % M, g = m / mg;
      float* out = y + r * O;
      std::fill(out, out + O, bias ? bias[m] : 0.0f);
      for (int64_t c = 0; c < CG; ++c) {
        const float* xc = x + (n * C + g * CG + c) * L;
        const float* wc = w + (m * CG + c) * K;
        for (int64_t t = 0; t < K; ++t) {
          const float wv = wc[t];
          // input position p = o * stride - pad + t * dil in [0, L)
          const int64_t off = t * dil - pad;
          int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
          int64_t hi = L - 1 - off < 0 ? -1 : (L - 1 - off) / stride;
          hi = std::min(hi, O - 1);
          if (stride == 1) {
            const float* xp = xc + off;
            for (int64_t o = lo; o <= hi; ++o) out[o] += wv * xp[o];
          } else {
            for (int64_t o = lo; o <= hi; ++o)
              out[o] += wv * xc[o * stride + off];
          }
        }
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace

void RegisterConvKernels() { RegisterKernel("Conv", Conv1d); }

}  // namespace qeff::hw::cpu
