// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 13), with
// optional class weights, ignore_index and reduction none/sum/mean.
#include <cmath>

#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

// input: log-probabilities [N, C, d...]; target [N, d...]. Appends the loss.
absl::Status Nll(const KernelContext& ctx, const Tensor& like,
                 const std::vector<double>& logp, const Dims& dims,
                 const Tensor& target, const Tensor* weight,
                 std::vector<Tensor>* out) {
  if (dims.size() < 2) return Error(ctx, "input must be [N, C, ...]");
  const int64_t n = dims[0], c = dims[1];
  const int64_t sp = n * c == 0 ? 0 : NumElements(dims) / (n * c);
  std::vector<int64_t> t = AsInts(target);
  if (static_cast<int64_t>(t.size()) != n * sp)
    return Error(ctx, "target shape does not match input");
  std::vector<double> w = weight ? AsDoubles(*weight) : std::vector<double>();
  const std::string red = ctx.node.GetString("reduction", "mean");
  const Attribute* ig = ctx.node.attr("ignore_index");
  std::vector<double> loss(n * sp, 0.0);
  double wsum = 0, lsum = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < sp; ++i) {
      int64_t k = t[b * sp + i];
      if (ig && k == ig->i()) continue;
      if (k < 0 || k >= c) return Error(ctx, "target ", k, " out of range");
      double wk = weight ? w[k] : 1.0;
      double l = -logp[(b * c + k) * sp + i] * wk;
      loss[b * sp + i] = l;
      lsum += l;
      wsum += wk;
    }
  if (red == "none") {
    Dims od = {n};
    od.insert(od.end(), dims.begin() + 2, dims.end());
    out->push_back(FromDoubles(like.dtype(), od, loss));
  } else if (red == "sum") {
    out->push_back(FromDoubles(like.dtype(), {}, {lsum}));
  } else if (red == "mean") {
    out->push_back(FromDoubles(like.dtype(), {}, {lsum / wsum}));
  } else {
    return Error(ctx, "unknown reduction '", red, "'");
  }
  return absl::OkStatus();
}

absl::Status NllKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  return Nll(ctx, x, AsDoubles(x), x.dims(), *ctx.input(1), ctx.input(2), out);
}

absl::Status SceKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  if (x.rank() < 2) return Error(ctx, "scores must be [N, C, ...]");
  const int64_t n = x.dims()[0], c = x.dims()[1];
  const int64_t sp = n * c == 0 ? 0 : x.num_elements() / (n * c);
  std::vector<double> v = AsDoubles(x);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < sp; ++i) {
      double mx = -INFINITY, s = 0;
      for (int64_t k = 0; k < c; ++k)
        mx = std::max(mx, v[(b * c + k) * sp + i]);
      for (int64_t k = 0; k < c; ++k)
        s += std::exp(v[(b * c + k) * sp + i] - mx);
      for (int64_t k = 0; k < c; ++k)
        v[(b * c + k) * sp + i] -= mx + std::log(s);
    }
  QEFF_RETURN_IF_ERROR(
      Nll(ctx, x, v, x.dims(), *ctx.input(1), ctx.input(2), out));
  out->push_back(FromDoubles(x.dtype(), x.dims(), v));
  return absl::OkStatus();
}

}  // namespace

void RegisterLossKernels() {
  RegisterKernel("", "NegativeLogLikelihoodLoss", NllKernel);
  RegisterKernel("", "SoftmaxCrossEntropyLoss", SceKernel);
}

}  // namespace qeff::ir::kernels
