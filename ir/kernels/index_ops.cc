// Indexing kernels: Gather, GatherElements, GatherND (batch_dims),
// ScatterND (reduction none/add/mul/max/min), ScatterElements. Negative
// indices count from the end; an index out of range is an error naming it.
#include <cstring>

#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

absl::StatusOr<int64_t> FixIndex(const KernelContext& ctx, int64_t i,
                                 int64_t dim) {
  if (i < -dim || i >= dim) {
    return Error(ctx, "index ", i, " out of range [", -dim, ", ", dim, ")");
  }
  return i < 0 ? i + dim : i;
}

absl::Status GatherKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  const Tensor& ind = *ctx.input(1);
  if (!IsInteger(ind.dtype())) return Error(ctx, "indices must be integers");
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", 0), x.rank()));
  Dims od(x.dims().begin(), x.dims().begin() + axis);
  od.insert(od.end(), ind.dims().begin(), ind.dims().end());
  od.insert(od.end(), x.dims().begin() + axis + 1, x.dims().end());
  int64_t outer = 1, inner = 1, d = x.dims()[axis];
  for (int i = 0; i < axis; ++i) outer *= x.dims()[i];
  for (int i = axis + 1; i < x.rank(); ++i) inner *= x.dims()[i];
  std::vector<int64_t> idx = AsInts(ind);
  for (int64_t& i : idx) {
    QEFF_ASSIGN_OR_RETURN(i, FixIndex(ctx, i, d));
  }
  Tensor y = Tensor::Zeros(x.dtype(), od);
  size_t es = DTypeSize(x.dtype());
  int64_t m = static_cast<int64_t>(idx.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < m; ++j) {
      std::memcpy(y.mutable_raw() + ((o * m + j) * inner) * es,
                  x.raw() + ((o * d + idx[j]) * inner) * es, inner * es);
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status GatherElementsKernel(const KernelContext& ctx,
                                  std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  const Tensor& ind = *ctx.input(1);
  if (ind.rank() != x.rank()) return Error(ctx, "indices rank differs");
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", 0), x.rank()));
  std::vector<int64_t> idx = AsInts(ind);
  Tensor y = Tensor::Zeros(x.dtype(), ind.dims());
  size_t es = DTypeSize(x.dtype());
  Dims xs = Strides(x.dims());
  Dims pos(x.rank(), 0);
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    int64_t src = 0;
    for (int k = 0; k < x.rank(); ++k) {
      int64_t p = pos[k];
      if (k == axis) {
        QEFF_ASSIGN_OR_RETURN(p, FixIndex(ctx, idx[i], x.dims()[k]));
      } else if (p >= x.dims()[k]) {
        return Error(ctx, "indices shape exceeds data shape");
      }
      src += p * xs[k];
    }
    std::memcpy(y.mutable_raw() + i * es, x.raw() + src * es, es);
    for (int k = x.rank() - 1; k >= 0; --k) {
      if (++pos[k] < ind.dims()[k]) break;
      pos[k] = 0;
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status GatherNDKernel(const KernelContext& ctx,
                            std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  const Tensor& ind = *ctx.input(1);
  const int64_t b = ctx.node.GetInt("batch_dims", 0);
  if (ind.rank() < 1 || b < 0 || b >= std::min(x.rank(), ind.rank())) {
    return Error(ctx, "invalid batch_dims ", b, " for ", x.TypeString(),
                 " and indices ", ind.TypeString());
  }
  const int64_t k = ind.dims().back();
  if (k < 1 || k > x.rank() - b) {
    return Error(ctx, "indices last dim ", k, " too large for ",
                 x.TypeString());
  }
  int64_t batch = 1;
  for (int i = 0; i < b; ++i) {
    if (x.dims()[i] != ind.dims()[i]) return Error(ctx, "batch dims differ");
    batch *= x.dims()[i];
  }
  Dims od(ind.dims().begin(), ind.dims().end() - 1);
  od.insert(od.end(), x.dims().begin() + b + k, x.dims().end());
  int64_t slice = 1;
  for (int i = b + k; i < x.rank(); ++i) slice *= x.dims()[i];
  int64_t per_batch_data = 1;
  for (int i = b; i < x.rank(); ++i) per_batch_data *= x.dims()[i];
  int64_t tuples = 1;
  for (int i = b; i < ind.rank() - 1; ++i) tuples *= ind.dims()[i];
  Dims xs = Strides(Dims(x.dims().begin() + b, x.dims().end()));
  std::vector<int64_t> idx = AsInts(ind);
  Tensor y = Tensor::Zeros(x.dtype(), od);
  size_t es = DTypeSize(x.dtype());
  for (int64_t bb = 0; bb < batch; ++bb) {
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = 0;
      const int64_t* tup = idx.data() + (bb * tuples + t) * k;
      for (int64_t j = 0; j < k; ++j) {
        QEFF_ASSIGN_OR_RETURN(int64_t p,
                              FixIndex(ctx, tup[j], x.dims()[b + j]));
        off += p * xs[j];
      }
      std::memcpy(y.mutable_raw() + (bb * tuples + t) * slice * es,
                  x.raw() + (bb * per_batch_data + off) * es, slice * es);
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

absl::StatusOr<Reduction> GetReduction(const KernelContext& ctx) {
  std::string r = ctx.node.GetString("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (r == "max") return Reduction::kMax;
  if (r == "min") return Reduction::kMin;
  return Error(ctx, "unknown reduction '", r, "'");
}

// Combines element `src` of `upd` into element `dst` of `y`.
void Combine(Tensor& y, int64_t dst, const Tensor& upd, int64_t src,
             Reduction red) {
  if (red == Reduction::kNone) {
    size_t es = DTypeSize(y.dtype());
    std::memcpy(y.mutable_raw() + dst * es, upd.raw() + src * es, es);
    return;
  }
  if (IsFloat(y.dtype())) {
    double a = y.GetDouble(dst), b = upd.GetDouble(src), r = 0;
    switch (red) {
      case Reduction::kAdd:
        r = a + b;
        break;
      case Reduction::kMul:
        r = a * b;
        break;
      case Reduction::kMax:
        r = std::max(a, b);
        break;
      default:
        r = std::min(a, b);
        break;
    }
    StoreDouble(y, dst, r);
  } else {
    int64_t a = y.GetInt(dst), b = upd.GetInt(src), r = 0;
    switch (red) {
      case Reduction::kAdd:
        r = a + b;
        break;
      case Reduction::kMul:
        r = a * b;
        break;
      case Reduction::kMax:
        r = std::max(a, b);
        break;
      default:
        r = std::min(a, b);
        break;
    }
    StoreInt(y, dst, r);
  }
}

absl::Status ScatterNDKernel(const KernelContext& ctx,
                             std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor& x = *ctx.input(0);
  const Tensor& ind = *ctx.input(1);
  const Tensor& upd = *ctx.input(2);
  QEFF_ASSIGN_OR_RETURN(Reduction red, GetReduction(ctx));
  if (upd.dtype() != x.dtype()) return Error(ctx, "updates type differs");
  if (ind.rank() < 1) return Error(ctx, "indices must have rank >= 1");
  const int64_t k = ind.dims().back();
  if (k > x.rank()) return Error(ctx, "indices last dim too large");
  Dims ud(ind.dims().begin(), ind.dims().end() - 1);
  ud.insert(ud.end(), x.dims().begin() + k, x.dims().end());
  if (ud != upd.dims()) {
    return Error(ctx, "updates shape ", DimsString(upd.dims()), " should be ",
                 DimsString(ud));
  }
  int64_t slice = 1;
  for (int i = k; i < x.rank(); ++i) slice *= x.dims()[i];
  const int64_t tuples =
      NumElements(Dims(ind.dims().begin(), ind.dims().end() - 1));
  Dims xs = Strides(x.dims());
  std::vector<int64_t> idx = AsInts(ind);
  Tensor y = Clone(x);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      QEFF_ASSIGN_OR_RETURN(int64_t p,
                            FixIndex(ctx, idx[t * k + j], x.dims()[j]));
      off += p * xs[j];
    }
    for (int64_t e = 0; e < slice; ++e)
      Combine(y, off + e, upd, t * slice + e, red);
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status ScatterElementsKernel(const KernelContext& ctx,
                                   std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor& x = *ctx.input(0);
  const Tensor& ind = *ctx.input(1);
  const Tensor& upd = *ctx.input(2);
  QEFF_ASSIGN_OR_RETURN(Reduction red, GetReduction(ctx));
  if (ind.dims() != upd.dims() || ind.rank() != x.rank()) {
    return Error(ctx,
                 "indices and updates must have the data's rank and one shape");
  }
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", 0), x.rank()));
  std::vector<int64_t> idx = AsInts(ind);
  Tensor y = Clone(x);
  Dims xs = Strides(x.dims());
  Dims pos(x.rank(), 0);
  for (int64_t i = 0; i < upd.num_elements(); ++i) {
    int64_t dst = 0;
    for (int k = 0; k < x.rank(); ++k) {
      int64_t p = pos[k];
      if (k == axis) {
        QEFF_ASSIGN_OR_RETURN(p, FixIndex(ctx, idx[i], x.dims()[k]));
      }
      dst += p * xs[k];
    }
    Combine(y, dst, upd, i, red);
    for (int k = x.rank() - 1; k >= 0; --k) {
      if (++pos[k] < ind.dims()[k]) break;
      pos[k] = 0;
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

}  // namespace

void RegisterIndexKernels() {
  RegisterKernel("", "Gather", GatherKernel);
  RegisterKernel("", "GatherElements", GatherElementsKernel);
  RegisterKernel("", "GatherND", GatherNDKernel);
  RegisterKernel("", "ScatterND", ScatterNDKernel);
  RegisterKernel("", "ScatterElements", ScatterElementsKernel);
}

}  // namespace qeff::ir::kernels
