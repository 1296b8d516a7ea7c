// Evaluator kernels of qeff's custom ops; the specification is ir/custom_ops.h.
#include "ir/custom_ops.h"

#include <cmath>
#include <cstring>

#include "base/status_macros.h"
#include "ir/graph.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

absl::Status RMSNormKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  if (!IsFloat(x.dtype()) || x.rank() < 1) {
    return Error(ctx, "x must be a float tensor of rank >= 1, got ",
                 x.TypeString());
  }
  const int64_t d = x.dims().back();
  if (w.num_elements() != d || (w.rank() > 1 && w.dims().back() != d)) {
    return Error(ctx, "weight ", w.TypeString(), " does not match x ",
                 x.TypeString());
  }
  const double eps = ctx.node.GetFloat("epsilon", kCustomRMSNormDefaultEpsilon);
  std::vector<double> v = AsDoubles(x), wv = AsDoubles(w);
  const int64_t rows = d == 0 ? 0 : x.num_elements() / d;
  for (int64_t r = 0; r < rows; ++r) {
    double* p = v.data() + r * d;
    double ss = 0;
    for (int64_t j = 0; j < d; ++j) ss += p[j] * p[j];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(d) + eps);
    for (int64_t j = 0; j < d; ++j) p[j] = p[j] * inv * wv[j];
  }
  out->push_back(FromDoubles(x.dtype(), x.dims(), v));
  return absl::OkStatus();
}

absl::Status CheckCache(const KernelContext& ctx, const Tensor& cache) {
  if (cache.rank() != 4) {
    return Error(ctx, "cache must be [B, H, C, D], got ", cache.TypeString());
  }
  return absl::OkStatus();
}

// batch_index [B, 1] -> rows, each in [0, fb).
absl::StatusOr<std::vector<int64_t>> BatchRows(const KernelContext& ctx,
                                               const Tensor& bi, int64_t b,
                                               int64_t fb) {
  if (!IsInteger(bi.dtype()) || bi.num_elements() != b ||
      (bi.rank() == 2 && bi.dims()[1] != 1) || bi.rank() > 2) {
    return Error(ctx, "batch_index must be int [", b, ", 1], got ",
                 bi.TypeString());
  }
  std::vector<int64_t> rows = AsInts(bi);
  for (int64_t r : rows) {
    if (r < 0 || r >= fb) {
      return Error(ctx, "batch_index ", r, " out of range [0, ", fb, ")");
    }
  }
  return rows;
}

// Shared body of CtxScatter / CtxScatterCB. `rows[b]` is the cache row that
// batch entry b writes.
absl::Status Scatter(const KernelContext& ctx, const Tensor& cache,
                     const std::vector<int64_t>& rows, const Tensor& pos,
                     const Tensor& upd, std::vector<Tensor>* out) {
  const int64_t h = cache.dims()[1], c = cache.dims()[2], d = cache.dims()[3];
  const int64_t b = static_cast<int64_t>(rows.size());
  if (upd.dtype() != cache.dtype() || upd.rank() != 4 || upd.dims()[0] != b ||
      upd.dims()[1] != h || upd.dims()[3] != d) {
    return Error(ctx, "updates ", upd.TypeString(), " do not match cache ",
                 cache.TypeString(), " with batch ", b);
  }
  const int64_t s = upd.dims()[2];
  if (!IsInteger(pos.dtype()) || pos.rank() != 2 ||
      (pos.dims()[0] != b && pos.dims()[0] != 1) || pos.dims()[1] != s) {
    return Error(ctx, "position_ids must be int [", b, ", ", s, "], got ",
                 pos.TypeString());
  }
  std::vector<int64_t> p = AsInts(pos);
  Tensor y = Clone(cache);
  const size_t es = DTypeSize(cache.dtype());
  const size_t row_bytes = d * es;
  for (int64_t bb = 0; bb < b; ++bb) {
    for (int64_t ss = 0; ss < s; ++ss) {
      const int64_t q = p[(pos.dims()[0] == 1 ? 0 : bb) * s + ss];
      if (q < 0) continue;
      if (q >= c) {
        return Error(ctx, "position ", q, " (batch ", bb, ", index ", ss,
                     ") is outside the cache's ", c, " slots");
      }
      for (int64_t hh = 0; hh < h; ++hh) {
        std::memcpy(y.mutable_raw() + ((rows[bb] * h + hh) * c + q) * row_bytes,
                    upd.raw() + ((bb * h + hh) * s + ss) * row_bytes,
                    row_bytes);
      }
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status Gather(const KernelContext& ctx, const Tensor& cache,
                    const std::vector<int64_t>& rows, const Tensor& ind,
                    std::vector<Tensor>* out) {
  const int64_t h = cache.dims()[1], c = cache.dims()[2], d = cache.dims()[3];
  const int64_t b = static_cast<int64_t>(rows.size());
  if (!IsInteger(ind.dtype()) || ind.rank() < 1 || ind.rank() > 2 ||
      (ind.rank() == 2 && ind.dims()[0] != b && ind.dims()[0] != 1)) {
    return Error(ctx, "ctx_indices must be int [", b, ", C'] or [C'], got ",
                 ind.TypeString());
  }
  const int64_t n = ind.dims().back();
  const bool shared = ind.rank() == 1 || ind.dims()[0] == 1;
  std::vector<int64_t> idx = AsInts(ind);
  for (int64_t i : idx) {
    if (i < 0 || i >= c) {
      return Error(ctx, "ctx index ", i, " is outside the cache's ", c,
                   " slots");
    }
  }
  Tensor y = Tensor::Zeros(cache.dtype(), {b, h, n, d});
  const size_t row_bytes = d * DTypeSize(cache.dtype());
  for (int64_t bb = 0; bb < b; ++bb) {
    const int64_t* ib = idx.data() + (shared ? 0 : bb * n);
    for (int64_t hh = 0; hh < h; ++hh) {
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(y.mutable_raw() + ((bb * h + hh) * n + i) * row_bytes,
                    cache.raw() + ((rows[bb] * h + hh) * c + ib[i]) * row_bytes,
                    row_bytes);
      }
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

absl::Status CtxScatterKernel(const KernelContext& ctx,
                              std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor& cache = *ctx.input(0);
  QEFF_RETURN_IF_ERROR(CheckCache(ctx, cache));
  return Scatter(ctx, cache, Iota(cache.dims()[0]), *ctx.input(1),
                 *ctx.input(2), out);
}

absl::Status CtxGatherKernel(const KernelContext& ctx,
                             std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& cache = *ctx.input(0);
  QEFF_RETURN_IF_ERROR(CheckCache(ctx, cache));
  return Gather(ctx, cache, Iota(cache.dims()[0]), *ctx.input(1), out);
}

absl::Status CtxScatterCBKernel(const KernelContext& ctx,
                                std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 4));
  const Tensor& cache = *ctx.input(0);
  QEFF_RETURN_IF_ERROR(CheckCache(ctx, cache));
  const Tensor& upd = *ctx.input(3);
  if (upd.rank() != 4) {
    return Error(ctx, "updates must be [B, H, S, D], got ", upd.TypeString());
  }
  QEFF_ASSIGN_OR_RETURN(
      std::vector<int64_t> rows,
      BatchRows(ctx, *ctx.input(1), upd.dims()[0], cache.dims()[0]));
  return Scatter(ctx, cache, rows, *ctx.input(2), upd, out);
}

absl::Status CtxGatherCBKernel(const KernelContext& ctx,
                               std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor& cache = *ctx.input(0);
  QEFF_RETURN_IF_ERROR(CheckCache(ctx, cache));
  const Tensor& bi = *ctx.input(1);
  QEFF_ASSIGN_OR_RETURN(
      std::vector<int64_t> rows,
      BatchRows(ctx, bi, bi.rank() == 0 ? 1 : bi.dims()[0], cache.dims()[0]));
  return Gather(ctx, cache, rows, *ctx.input(2), out);
}

}  // namespace

void RegisterCustomKernels() {
  RegisterKernel(kQtiDomain, kCustomRMSNormOp, RMSNormKernel);
  // Also accepted under the qaic domain (some producers put it there).
  RegisterKernel(kQaicDomain, kCustomRMSNormOp, RMSNormKernel);
  RegisterKernel(kQaicDomain, kCtxScatterOp, CtxScatterKernel);
  RegisterKernel(kQaicDomain, kCtxGatherOp, CtxGatherKernel);
  RegisterKernel(kQaicDomain, kCtxScatterCBOp, CtxScatterCBKernel);
  RegisterKernel(kQaicDomain, kCtxGatherCBOp, CtxGatherCBKernel);
}

}  // namespace qeff::ir::kernels
