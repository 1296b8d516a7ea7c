// Neural-network kernels: generic MatMul (batched, broadcasting), reductions,
// Softmax, RMSNorm (decomposed HF form and CustomRMSNorm), LayerNorm
// (decomposed HF form and ONNX LayerNormalization), GPT-2's GELU, SwiGLU's
// SiluMul, rotate-half RoPE. Linear and Attention live in kernels_linear.cc.
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/vec_math.h"

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
    cpu::SiluMul(g + b, u + b, y + b, e - b);
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

// LayerNorm(x [..., D], w [D], b [D] or omitted) over the last axis.
// ints: mode. Mode 0 rounds like the decomposed Hugging Face graph (every op
// rounded to f32): mean = f32(mean_double(x)); c = f32(x - mean); var =
// f32(mean_double(f32(c*c))); sd = f32(sqrt(f32(var + eps))); y =
// f32(f32(f32(c / sd) * w) + b). Mode 1 is ONNX LayerNormalization (all in
// double, rounded once). floats: eps.
absl::Status LayerNorm(const KernelCtx& k) {
  const int64_t d = k.in[0].dims().back();
  const int64_t rows = d ? k.in[0].n() / d : 0;
  const bool exact = k.step.ints.at(0) == 1;
  const float eps = k.step.floats.at(0);
  const float* x = k.in[0].in<float>();
  const float* w = k.in[1].in<float>();
  const float* bias =
      k.in.size() > 2 && k.in[2].data ? k.in[2].in<float>() : nullptr;
  if (k.in[1].n() != d || (bias && k.in[2].n() != d))
    return KernelError(k, "scale/bias must have the normalized length");
  float* y = k.out[0].out<float>();
  ParallelFor(rows, 4, [&](int64_t b0, int64_t e0) {
    std::vector<float> c(d);
    for (int64_t r = b0; r < e0; ++r) {
      const float* p = x + r * d;
      float* q = y + r * d;
      double m = 0;
      for (int64_t j = 0; j < d; ++j) m += p[j];
      m /= static_cast<double>(d);
      if (exact) {
        double var = 0;
        for (int64_t j = 0; j < d; ++j) var += (p[j] - m) * (p[j] - m);
        var /= static_cast<double>(d);
        const double is = 1.0 / std::sqrt(var + static_cast<double>(eps));
        for (int64_t j = 0; j < d; ++j) {
          double e = (p[j] - m) * is * w[j];
          if (bias) e += bias[j];
          q[j] = static_cast<float>(e);
        }
        continue;
      }
      const float mean = static_cast<float>(m);
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) {
        c[j] = p[j] - mean;
        ss += static_cast<float>(c[j] * c[j]);
      }
      const float var = static_cast<float>(ss / static_cast<double>(d));
      const float sd = std::sqrt(var + eps);
      for (int64_t j = 0; j < d; ++j) {
        const float nrm = c[j] / sd;
        const float sc = nrm * w[j];
        q[j] = bias ? sc + bias[j] : sc;
      }
    }
  });
  return absl::OkStatus();
}

// Gelu(x): GPT-2's decomposed forms, each op rounded to f32 as the graph
// does. ints: mode (0: tanh form, 1: erf form). floats: mode 0: half, one,
// power, cube coefficient, sqrt(2/pi) factor: y = f32(f32(x * half) *
// f32(tanh(f32(f32(x + f32(f32(x^power) * coef)) * factor)) + one));
// mode 1: half, one, factor: y = f32(f32(x * half) * f32(erf(f32(x *
// factor)) + one)).
absl::Status Gelu(const KernelCtx& k) {
  const int64_t n = k.in[0].n();
  const bool erf_form = k.step.ints.at(0) == 1;
  const auto& f = k.step.floats;
  if (f.size() != (erf_form ? 3u : 5u)) return KernelError(k, "bad params");
  const float half = f[0], one = f[1];
  const float* x = k.in[0].in<float>();
  float* y = k.out[0].out<float>();
  ParallelFor(n, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float v = x[i];
      float act;
      if (erf_form) {
        const float s = v * f[2];
        act = static_cast<float>(std::erf(static_cast<double>(s)));
      } else {
        const float p =
            f[2] == 3.0f
                ? static_cast<float>(static_cast<double>(v) * v * v)
                : static_cast<float>(std::pow(static_cast<double>(v), f[2]));
        const float inner = v + p * f[3];
        const float s = inner * f[4];
        act = static_cast<float>(std::tanh(static_cast<double>(s)));
      }
      const float hx = v * half;
      y[i] = hx * (act + one);
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
  RegisterKernel("LayerNorm", LayerNorm);
  RegisterKernel("Gelu", Gelu);
}

}  // namespace qeff::hw::cpu
