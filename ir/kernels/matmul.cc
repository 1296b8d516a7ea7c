// MatMul (numpy matmul: 1-D promotion, broadcast batch dims) and Gemm.
// Float products accumulate in double; integers in int64 (wrapping).
#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

absl::Status MatMulKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  if (a.dtype() != b.dtype()) {
    return Error(ctx, "input types differ: ", a.TypeString(), " vs ",
                 b.TypeString());
  }
  if (a.rank() == 0 || b.rank() == 0) return Error(ctx, "scalar operand");
  Dims ad = a.dims(), bd = b.dims();
  const bool a1 = ad.size() == 1, b1 = bd.size() == 1;
  if (a1) ad.insert(ad.begin(), 1);
  if (b1) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], k = ad.back();
  const int64_t n = bd.back();
  if (bd[bd.size() - 2] != k) {
    return Error(ctx, "inner dims differ: ", a.TypeString(), " x ",
                 b.TypeString());
  }
  Dims abatch(ad.begin(), ad.end() - 2), bbatch(bd.begin(), bd.end() - 2);
  QEFF_ASSIGN_OR_RETURN(Dims batch, BroadcastShapes(ctx, {abatch, bbatch}));
  auto ia = BroadcastIndex(abatch, batch);
  auto ib = BroadcastIndex(bbatch, batch);
  const int64_t nb = NumElements(batch);
  Dims od = batch;
  if (!a1) od.push_back(m);
  if (!b1) od.push_back(n);
  if (IsFloat(a.dtype())) {
    std::vector<double> va = AsDoubles(a), vb = AsDoubles(b);
    std::vector<double> r(nb * m * n, 0.0);
    for (int64_t t = 0; t < nb; ++t) {
      const double* pa = va.data() + ia[t] * m * k;
      const double* pb = vb.data() + ib[t] * k * n;
      double* pr = r.data() + t * m * n;
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t kk = 0; kk < k; ++kk) {
          const double x = pa[i * k + kk];
          for (int64_t j = 0; j < n; ++j) pr[i * n + j] += x * pb[kk * n + j];
        }
      }
    }
    out->push_back(FromDoubles(a.dtype(), od, r));
  } else {
    std::vector<int64_t> va = AsInts(a), vb = AsInts(b);
    std::vector<int64_t> r(nb * m * n, 0);
    for (int64_t t = 0; t < nb; ++t) {
      const int64_t* pa = va.data() + ia[t] * m * k;
      const int64_t* pb = vb.data() + ib[t] * k * n;
      int64_t* pr = r.data() + t * m * n;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t kk = 0; kk < k; ++kk)
          for (int64_t j = 0; j < n; ++j)
            pr[i * n + j] =
                static_cast<int64_t>(static_cast<uint64_t>(pr[i * n + j]) +
                                     static_cast<uint64_t>(pa[i * k + kk]) *
                                         static_cast<uint64_t>(pb[kk * n + j]));
    }
    out->push_back(FromInts(a.dtype(), od, r));
  }
  return absl::OkStatus();
}

absl::Status GemmKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  const Tensor* c = ctx.input(2);
  if (a.rank() != 2 || b.rank() != 2) {
    return Error(ctx, "A and B must be 2-D, got ", a.TypeString(), ", ",
                 b.TypeString());
  }
  if (a.dtype() != b.dtype()) return Error(ctx, "input types differ");
  const double alpha = ctx.node.GetFloat("alpha", 1.0f);
  const double beta = ctx.node.GetFloat("beta", 1.0f);
  const bool ta = ctx.node.GetInt("transA", 0) != 0;
  const bool tb = ctx.node.GetInt("transB", 0) != 0;
  const int64_t m = ta ? a.dims()[1] : a.dims()[0];
  const int64_t k = ta ? a.dims()[0] : a.dims()[1];
  const int64_t kb = tb ? b.dims()[1] : b.dims()[0];
  const int64_t n = tb ? b.dims()[0] : b.dims()[1];
  if (k != kb) return Error(ctx, "inner dims differ: ", k, " vs ", kb);
  std::vector<double> va = AsDoubles(a), vb = AsDoubles(b);
  std::vector<double> r(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        s +=
            va[ta ? kk * m + i : i * k + kk] * vb[tb ? j * k + kk : kk * n + j];
      }
      r[i * n + j] = alpha * s;
    }
  }
  if (c) {
    QEFF_ASSIGN_OR_RETURN(Dims cd, BroadcastShapes(ctx, {c->dims(), {m, n}}));
    if (cd != Dims{m, n}) {
      return Error(ctx, "C ", c->TypeString(), " does not broadcast to [", m,
                   ", ", n, "]");
    }
    auto ic = BroadcastIndex(c->dims(), {m, n});
    std::vector<double> vc = AsDoubles(*c);
    for (int64_t i = 0; i < m * n; ++i) r[i] += beta * vc[ic[i]];
  }
  if (IsFloat(a.dtype())) {
    out->push_back(FromDoubles(a.dtype(), {m, n}, r));
  } else {
    std::vector<int64_t> ri(r.size());
    for (size_t i = 0; i < r.size(); ++i) ri[i] = static_cast<int64_t>(r[i]);
    out->push_back(FromInts(a.dtype(), {m, n}, ri));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterMatmulKernels() {
  RegisterKernel("", "MatMul", MatMulKernel);
  RegisterKernel("", "Gemm", GemmKernel);
}

}  // namespace qeff::ir::kernels
