// Evaluator kernel of the MoE custom op (routed experts); the specification
// is ir/custom_ops.h. Computes in double and rounds the output once to x's
// type; runs only the selected experts of each row.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "base/status_macros.h"
#include "ir/custom_ops.h"
#include "ir/graph.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

absl::Status MoEKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 5));
  const Tensor& x = *ctx.input(0);
  const Tensor& logits = *ctx.input(1);
  const Tensor& gate = *ctx.input(2);
  const Tensor& up = *ctx.input(3);
  const Tensor& down = *ctx.input(4);
  if (!IsFloat(x.dtype()) || x.rank() < 1)
    return Error(ctx, "x must be a float tensor of rank >= 1, got ",
                 x.TypeString());
  if (gate.rank() != 3 || up.dims() != gate.dims() || down.rank() != 3)
    return Error(ctx,
                 "expert weights must be gate/up [E, F, H], down [E, H, F]",
                 "; got ", gate.TypeString(), ", ", up.TypeString(), ", ",
                 down.TypeString());
  const int64_t E = gate.dims()[0], F = gate.dims()[1], H = gate.dims()[2];
  if (x.dims().back() != H || down.dims() != Dims{E, H, F})
    return Error(ctx, "x ", x.TypeString(), " and down ", down.TypeString(),
                 " do not match gate ", gate.TypeString());
  const int64_t T = H == 0 ? 0 : x.num_elements() / H;
  if (logits.rank() < 1 || logits.dims().back() != E ||
      logits.num_elements() != T * E)
    return Error(ctx, "router_logits ", logits.TypeString(), " must be [..., ",
                 E, "] with the rows of x ", x.TypeString());
  const int64_t k = ctx.node.GetInt("top_k", 0);
  const int64_t scoring = ctx.node.GetInt("scoring", 0);
  const bool norm = ctx.node.GetInt("norm_topk_prob", 0) != 0;
  const bool on_input = ctx.node.GetInt("score_on_input", 0) != 0;
  if (k < 1 || k > E) return Error(ctx, "top_k ", k, " not in [1, ", E, "]");
  if (scoring != 0 && scoring != 1)
    return Error(ctx, "scoring ", scoring, " (0 softmax, 1 sigmoid)");
  const int64_t act = ctx.node.GetInt("activation", 0);
  if (act < 0 || act > 2)
    return Error(ctx, "activation ", act,
                 " (supported: 0 SiLU, 1 GELU, 2 GELU tanh)");
  if (ctx.node.GetInt("packed_experts", 0) != 0)
    return Error(ctx,
                 "packed_experts: the expert stacks are in the cpu driver's "
                 "panel layout, which only the cpu driver reads");
  // u * m(u): the activation as a multiplier of its input.
  auto activate = [act](double g) {
    if (act == 1) return 0.5 * g * (1.0 + std::erf(g * M_SQRT1_2));
    if (act == 2) {
      const double c = std::sqrt(2.0 / M_PI);
      return 0.5 * g * (1.0 + std::tanh(c * (g + 0.044715 * g * g * g)));
    }
    return g / (1.0 + std::exp(-g));
  };
  const std::vector<double> xv = AsDoubles(x), lv = AsDoubles(logits),
                            gv = AsDoubles(gate), uv = AsDoubles(up),
                            dv = AsDoubles(down);
  std::vector<double> y(T * H, 0.0), u(H), a(F), o(H);
  std::vector<int64_t> order(E);
  for (int64_t t = 0; t < T; ++t) {
    const double* l = lv.data() + t * E;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t p, int64_t q) { return l[p] > l[q]; });
    std::vector<double> s(E);
    if (scoring == 0) {
      const double mx = *std::max_element(l, l + E);
      double sum = 0;
      for (int64_t e = 0; e < E; ++e) sum += s[e] = std::exp(l[e] - mx);
      for (double& v : s) v /= sum;
    } else {
      for (int64_t e = 0; e < E; ++e) s[e] = 1.0 / (1.0 + std::exp(-l[e]));
    }
    double wsum = 0;
    for (int64_t j = 0; j < k; ++j) wsum += s[order[j]];
    const double* xr = xv.data() + t * H;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t e = order[j];
      const double w = norm ? s[e] / wsum : s[e];
      for (int64_t h = 0; h < H; ++h) u[h] = on_input ? w * xr[h] : xr[h];
      for (int64_t f = 0; f < F; ++f) {
        const double* gr = gv.data() + (e * F + f) * H;
        const double* ur = uv.data() + (e * F + f) * H;
        double g = 0, p = 0;
        for (int64_t h = 0; h < H; ++h) {
          g += gr[h] * u[h];
          p += ur[h] * u[h];
        }
        a[f] = activate(g) * p;
      }
      for (int64_t h = 0; h < H; ++h) {
        const double* dr = dv.data() + (e * H + h) * F;
        double acc = 0;
        for (int64_t f = 0; f < F; ++f) acc += dr[f] * a[f];
        y[t * H + h] += on_input ? acc : w * acc;
      }
    }
  }
  out->push_back(FromDoubles(x.dtype(), x.dims(), y));
  return absl::OkStatus();
}

}  // namespace

void RegisterMoEKernels() { RegisterKernel(kQaicDomain, kMoEOp, MoEKernel); }

}  // namespace qeff::ir::kernels
