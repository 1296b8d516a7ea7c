// Neural-network kernels: generic MatMul (batched, broadcasting), reductions,
// Softmax, RMSNorm (decomposed HF form and CustomRMSNorm), SwiGLU's
// SiluMul, rotate-half RoPE. Linear and Attention live in kernels_linear.cc.
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "hw/cpu/kernels.h"

namespace qeff::hw::cpu {
namespace {

using ir::DType;

// Row-major batch index of `in` batch dims (right-aligned, broadcast) for
// each flat index of `out` batch dims.
std::vector<int64_t> BatchMap(const std::vector<int64_t>& in,
                              const std::vector<int64_t>& out) {
  const int64_t n = ir::NumElements(out);
  std::vector<int64_t> m(n, 0);
  const int off = static_cast<int>(out.size() - in.size());
  for (int64_t o = 0; o < n; ++o) {
    int64_t rem = o, idx = 0, stride = 1;
    for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
      const int64_t c = rem % out[d];
      rem /= out[d];
      const int di = d - off;
      if (di >= 0) {
        if (in[di] != 1) idx += c * stride;
        stride *= in[di];
      }
    }
    m[o] = idx;
  }
  return m;
}

// Generic f32 MatMul with numpy semantics; each element accumulates in
// double over k ascending.
absl::Status MatMul(const KernelCtx& k) {
  if (k.in[0].slot->dtype != DType::kF32 || k.in[1].slot->dtype != DType::kF32)
    return KernelError(k, "MatMul supports f32 operands");
  std::vector<int64_t> ad = k.in[0].dims(), bd = k.in[1].dims();
  const bool a1 = ad.size() == 1, b1 = bd.size() == 1;
  if (a1) ad.insert(ad.begin(), 1);
  if (b1) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], kk = ad.back(), n = bd.back();
  std::vector<int64_t> ab(ad.begin(), ad.end() - 2),
      bb(bd.begin(), bd.end() - 2);
  std::vector<int64_t> batch = k.out[0].dims();
  if (!b1) batch.pop_back();
  if (!a1) batch.pop_back();
  const std::vector<int64_t> ia = BatchMap(ab, batch), ib = BatchMap(bb, batch);
  const float* pa = k.in[0].in<float>();
  const float* pb = k.in[1].in<float>();
  float* po = k.out[0].out<float>();
  const int64_t nb = ir::NumElements(batch);
  ParallelFor(nb * m, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, kk * n)),
              [&](int64_t b, int64_t e) {
                std::vector<double> acc(n);
                for (int64_t r = b; r < e; ++r) {
                  const int64_t t = r / m, i = r % m;
                  const float* a = pa + (ia[t] * m + i) * kk;
                  const float* bm = pb + ib[t] * kk * n;
                  std::fill(acc.begin(), acc.end(), 0.0);
                  for (int64_t x = 0; x < kk; ++x) {
                    const double av = a[x];
                    const float* brow = bm + x * n;
                    for (int64_t j = 0; j < n; ++j) acc[j] += av * brow[j];
                  }
                  for (int64_t j = 0; j < n; ++j)
                    po[r * n + j] = static_cast<float>(acc[j]);
                }
              });
  return absl::OkStatus();
}

enum class Red { kMean, kSum, kMax };

// ints: one flag per input dim (1 = reduced). Accumulates in double.
template <Red kOp>
absl::Status Reduce(const KernelCtx& k) {
  const auto& xd = k.in[0].dims();
  const int r = static_cast<int>(xd.size());
  const DType t = k.in[0].slot->dtype;
  if (t != DType::kF32 && t != DType::kI64)
    return KernelError(k, "reduce supports f32, i64");
  // Output index for each input element.
  std::vector<int64_t> od, ost(r, 0);
  int64_t red = 1;
  for (int d = 0; d < r; ++d) {
    if (k.step.ints[d])
      red *= xd[d];
    else
      od.push_back(xd[d]);
  }
  {
    int64_t stride = 1;
    for (int d = r - 1; d >= 0; --d) {
      if (!k.step.ints[d]) {
        ost[d] = stride;
        stride *= xd[d];
      }
    }
  }
  const int64_t on = ir::NumElements(od), n = k.in[0].n();
  std::vector<double> acc(on, kOp == Red::kMax ? -INFINITY : 0.0);
  std::vector<int64_t> idx(r, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t o = 0;
    for (int d = 0; d < r; ++d) o += idx[d] * ost[d];
    const double v = t == DType::kF32
                         ? k.in[0].in<float>()[i]
                         : static_cast<double>(k.in[0].in<int64_t>()[i]);
    if (kOp == Red::kMax)
      acc[o] = std::max(acc[o], v);
    else
      acc[o] += v;
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < xd[d]) break;
      idx[d] = 0;
    }
  }
  for (int64_t o = 0; o < on; ++o) {
    double v = kOp == Red::kMean ? acc[o] / static_cast<double>(red) : acc[o];
    if (t == DType::kF32)
      k.out[0].out<float>()[o] = static_cast<float>(v);
    else
      k.out[0].out<int64_t>()[o] = static_cast<int64_t>(v);
  }
  return absl::OkStatus();
}

// Mean over the last axis as the decomposed RMSNorm needs it is common
// enough to deserve a row kernel; ints: axis (of a keepdims reduction).
absl::Status Softmax(const KernelCtx& k) {
  const auto& xd = k.in[0].dims();
  const int64_t axis = k.step.ints[0];
  int64_t outer = 1, inner = 1;
  const int64_t dim = xd[axis];
  for (int64_t d = 0; d < axis; ++d) outer *= xd[d];
  for (size_t d = axis + 1; d < xd.size(); ++d) inner *= xd[d];
  const float* x = k.in[0].in<float>();
  float* y = k.out[0].out<float>();
  ParallelFor(outer * inner, 16, [&](int64_t b, int64_t e) {
    std::vector<double> ex(dim);
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / inner, i = r % inner;
      const float* p = x + o * dim * inner + i;
      double m = p[0];
      for (int64_t j = 1; j < dim; ++j)
        m = std::max(m, static_cast<double>(p[j * inner]));
      double s = 0;
      for (int64_t j = 0; j < dim; ++j) s += ex[j] = std::exp(p[j * inner] - m);
      float* q = y + o * dim * inner + i;
      for (int64_t j = 0; j < dim; ++j)
        q[j * inner] = static_cast<float>(ex[j] / s);
    }
  });
  return absl::OkStatus();
}

// RMSNorm(x [..., D], w [D]) with the decomposed HF graph's rounding:
// sq = f32(x*x); var = f32(mean_double(sq)); t = var + eps; rstd =
// f32(1/f32(sqrt(t))); y = w * (x * rstd). floats: eps.
absl::Status RMSNorm(const KernelCtx& k) {
  const int64_t d = k.in[0].dims().back();
  const int64_t rows = k.in[0].n() / d;
  const float eps = k.step.floats[0];
  const float* x = k.in[0].in<float>();
  const float* w = k.in[1].in<float>();
  float* y = k.out[0].out<float>();
  ParallelFor(rows, 4, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* p = x + r * d;
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) ss += static_cast<float>(p[j] * p[j]);
      const float var = static_cast<float>(ss / static_cast<double>(d));
      const float t = var + eps;
      const float sd = static_cast<float>(std::sqrt(static_cast<double>(t)));
      const float rs = static_cast<float>(1.0 / static_cast<double>(sd));
      float* q = y + r * d;
      for (int64_t j = 0; j < d; ++j) {
        const float nrm = p[j] * rs;
        q[j] = w[j] * nrm;
      }
    }
  });
  return absl::OkStatus();
}

// CustomRMSNorm (ir/custom_ops.h): computed in double, rounded once.
// floats: epsilon.
absl::Status CustomRMSNorm(const KernelCtx& k) {
  const int64_t d = k.in[0].dims().back();
  const int64_t rows = d ? k.in[0].n() / d : 0;
  const double eps = k.step.floats[0];
  const float* x = k.in[0].in<float>();
  const float* w = k.in[1].in<float>();
  float* y = k.out[0].out<float>();
  ParallelFor(rows, 4, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* p = x + r * d;
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) ss += static_cast<double>(p[j]) * p[j];
      const double inv = 1.0 / std::sqrt(ss / static_cast<double>(d) + eps);
      for (int64_t j = 0; j < d; ++j)
        y[r * d + j] =
            static_cast<float>(static_cast<double>(p[j]) * inv * w[j]);
    }
  });
  return absl::OkStatus();
}

// SiluMul(gate, up) = (gate * f32(sigmoid(gate))) * up, same shapes.
absl::Status SiluMul(const KernelCtx& k) {
  const int64_t n = k.in[0].n();
  const float* g = k.in[0].in<float>();
  const float* u = k.in[1].in<float>();
  float* y = k.out[0].out<float>();
  ParallelFor(n, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float s = static_cast<float>(
          1.0 / (1.0 + std::exp(-static_cast<double>(g[i]))));
      const float a = g[i] * s;
      y[i] = a * u[i];
    }
  });
  return absl::OkStatus();
}

// Rope(x [B,H,S,D], cos, sin [B or 1, H or 1, S, D]): x*cos +
// rotate_half(x)*sin with rotate_half(x) = concat(-x[D/2:], x[:D/2]).
absl::Status Rope(const KernelCtx& k) {
  const auto& xd = k.in[0].dims();
  const auto& cd = k.in[1].dims();
  if (xd.size() != 4 || cd.size() != 4 || k.in[2].dims() != cd)
    return KernelError(k, "Rope needs rank-4 x, cos, sin");
  const int64_t B = xd[0], H = xd[1], S = xd[2], D = xd[3], half = D / 2;
  const float* x = k.in[0].in<float>();
  const float* c = k.in[1].in<float>();
  const float* s = k.in[2].in<float>();
  float* y = k.out[0].out<float>();
  ParallelFor(B * H * S, 8, [&](int64_t b0, int64_t e0) {
    for (int64_t r = b0; r < e0; ++r) {
      const int64_t si = r % S, hi = (r / S) % H, bi = r / (S * H);
      const int64_t crow =
          (((cd[0] == 1 ? 0 : bi) * cd[1] + (cd[1] == 1 ? 0 : hi)) * S + si) *
          D;
      const float* p = x + r * D;
      float* q = y + r * D;
      for (int64_t j = 0; j < D; ++j) {
        const float rot = j < half ? -p[j + half] : p[j - half];
        const float a = p[j] * c[crow + j];
        const float bb = rot * s[crow + j];
        q[j] = a + bb;
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace

void RegisterNNKernels() {
  RegisterKernel("MatMul", MatMul);
  RegisterKernel("ReduceMean", Reduce<Red::kMean>);
  RegisterKernel("ReduceSum", Reduce<Red::kSum>);
  RegisterKernel("ReduceMax", Reduce<Red::kMax>);
  RegisterKernel("Softmax", Softmax);
  RegisterKernel("RMSNorm", RMSNorm);
  RegisterKernel("CustomRMSNorm", CustomRMSNorm);
  RegisterKernel("SiluMul", SiluMul);
  RegisterKernel("Rope", Rope);
}

}  // namespace qeff::hw::cpu
