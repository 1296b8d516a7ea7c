// Reductions and normalisations: Reduce{Sum,Mean,Max,Min,Prod,SumSquare,L1,
// L2,LogSum,LogSumExp}, Softmax/LogSoftmax, ArgMax/ArgMin, CumSum, TopK,
// LayerNormalization. Float reductions accumulate in double.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

enum class RedOp {
  kSum,
  kMean,
  kMax,
  kMin,
  kProd,
  kSumSquare,
  kL1,
  kL2,
  kLogSum,
  kLogSumExp
};

// The reduced axes (sorted, normalised) and whether this is a no-op.
struct ReducePlan {
  std::vector<bool> reduced;
  bool noop = false;
};

absl::StatusOr<ReducePlan> PlanReduce(const KernelContext& ctx,
                                      const Tensor& x) {
  std::vector<int64_t> axes;
  if (ctx.input(1)) {
    QEFF_ASSIGN_OR_RETURN(axes, IntList(ctx, 1));
  } else {
    axes = ctx.node.GetInts("axes");
  }
  ReducePlan p;
  p.reduced.assign(x.rank(), axes.empty());
  if (axes.empty() && ctx.node.GetInt("noop_with_empty_axes", 0) != 0) {
    p.noop = true;
    return p;
  }
  for (int64_t a : axes) {
    QEFF_ASSIGN_OR_RETURN(int64_t na, NormAxis(ctx, a, x.rank()));
    p.reduced[na] = true;
  }
  return p;
}

absl::Status Reduce(const KernelContext& ctx, std::vector<Tensor>* out,
                    RedOp op) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  QEFF_ASSIGN_OR_RETURN(ReducePlan plan, PlanReduce(ctx, *x));
  if (plan.noop) {
    out->push_back(*x);
    return absl::OkStatus();
  }
  const bool keep = ctx.node.GetInt("keepdims", 1) != 0;
  int r = x->rank();
  Dims kd(r), od;  // kd: keepdims shape
  for (int i = 0; i < r; ++i) {
    kd[i] = plan.reduced[i] ? 1 : x->dims()[i];
    if (!plan.reduced[i] || keep) od.push_back(kd[i]);
  }
  int64_t on = NumElements(kd);
  int64_t count = on == 0 ? 0 : x->num_elements() / std::max<int64_t>(on, 1);
  if (on == 0) count = 0;
  // Output index of each input element.
  Dims ks = Strides(kd);
  std::vector<int64_t> map(x->num_elements());
  {
    Dims pos(r, 0);
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      int64_t o = 0;
      for (int k = 0; k < r; ++k)
        if (!plan.reduced[k]) o += pos[k] * ks[k];
      map[i] = o;
      for (int k = r - 1; k >= 0; --k) {
        if (++pos[k] < x->dims()[k]) break;
        pos[k] = 0;
      }
    }
  }
  const bool int_path =
      !IsFloat(x->dtype()) &&
      (op == RedOp::kSum || op == RedOp::kMax || op == RedOp::kMin ||
       op == RedOp::kProd || op == RedOp::kSumSquare || op == RedOp::kL1);
  if (int_path) {
    const bool u = IsUnsigned(x->dtype());
    int64_t init = 0;
    if (op == RedOp::kProd) init = 1;
    if (op == RedOp::kMax) init = u ? 0 : std::numeric_limits<int64_t>::min();
    if (op == RedOp::kMin) init = u ? -1 : std::numeric_limits<int64_t>::max();
    std::vector<int64_t> acc(on, init);
    std::vector<int64_t> v = AsInts(*x);
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      int64_t& a = acc[map[i]];
      int64_t e = v[i];
      switch (op) {
        case RedOp::kSum:
          a += e;
          break;
        case RedOp::kProd:
          a *= e;
          break;
        case RedOp::kSumSquare:
          a += e * e;
          break;
        case RedOp::kL1:
          a += e < 0 ? -e : e;
          break;
        case RedOp::kMax:
          if (u ? static_cast<uint64_t>(e) > static_cast<uint64_t>(a) : e > a)
            a = e;
          break;
        default:
          if (u ? static_cast<uint64_t>(e) < static_cast<uint64_t>(a) : e < a)
            a = e;
      }
    }
    out->push_back(FromInts(x->dtype(), od, acc));
    return absl::OkStatus();
  }
  double init = 0;
  if (op == RedOp::kProd) init = 1;
  if (op == RedOp::kMax) init = -INFINITY;
  if (op == RedOp::kMin) init = INFINITY;
  std::vector<double> acc(on, init);
  std::vector<double> v = AsDoubles(*x);
  if (op == RedOp::kLogSumExp) {
    // Stable: subtract each group's max.
    std::vector<double> mx(on, -INFINITY);
    for (int64_t i = 0; i < x->num_elements(); ++i)
      mx[map[i]] = std::max(mx[map[i]], v[i]);
    for (int64_t i = 0; i < x->num_elements(); ++i)
      acc[map[i]] += std::exp(v[i] - mx[map[i]]);
    for (int64_t o = 0; o < on; ++o)
      acc[o] = std::isinf(mx[o]) ? std::log(acc[o]) + mx[o]
                                 : std::log(acc[o]) + mx[o];
    out->push_back(FromDoubles(x->dtype(), od, acc));
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < x->num_elements(); ++i) {
    double& a = acc[map[i]];
    double e = v[i];
    switch (op) {
      case RedOp::kMax:
        a = (std::isnan(e) || e > a) ? e : a;
        break;
      case RedOp::kMin:
        a = (std::isnan(e) || e < a) ? e : a;
        break;
      case RedOp::kProd:
        a *= e;
        break;
      case RedOp::kSumSquare:
      case RedOp::kL2:
        a += e * e;
        break;
      case RedOp::kL1:
        a += std::fabs(e);
        break;
      default:
        a += e;
    }
  }
  for (double& a : acc) {
    if (op == RedOp::kMean) a /= static_cast<double>(count);
    if (op == RedOp::kL2) a = std::sqrt(a);
    if (op == RedOp::kLogSum) a = std::log(a);
  }
  out->push_back(FromDoubles(x->dtype(), od, acc));
  return absl::OkStatus();
}

// Splits dims around `axis` into (outer, len, inner).
void Around(const Dims& d, int64_t axis, int64_t* outer, int64_t* len,
            int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t i = 0; i < axis; ++i) *outer *= d[i];
  *len = d[axis];
  for (size_t i = axis + 1; i < d.size(); ++i) *inner *= d[i];
}

absl::Status SoftmaxKernel(const KernelContext& ctx, std::vector<Tensor>* out,
                           bool log) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  if (!IsFloat(x->dtype())) return Error(ctx, "input must be float");
  auto it = ctx.graph.opsets.find("");
  const int64_t opset = it == ctx.graph.opsets.end() ? 17 : it->second;
  const int64_t dflt = opset < 13 ? 1 : -1;
  int64_t outer, len, inner;
  if (x->rank() == 0) {
    outer = len = inner = 1;
  } else {
    QEFF_ASSIGN_OR_RETURN(
        int64_t axis, NormAxis(ctx, ctx.node.GetInt("axis", dflt), x->rank()));
    if (opset < 13) {  // coerced to 2-D [prod(d[:axis]), prod(d[axis:])]
      outer = 1;
      for (int64_t i = 0; i < axis; ++i) outer *= x->dims()[i];
      len = outer == 0 ? 0 : x->num_elements() / std::max<int64_t>(outer, 1);
      inner = 1;
    } else {
      Around(x->dims(), axis, &outer, &len, &inner);
    }
  }
  std::vector<double> v = AsDoubles(*x);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t j) -> double& {
        return v[(o * len + j) * inner + in];
      };
      double mx = -INFINITY;
      for (int64_t j = 0; j < len; ++j) mx = std::max(mx, at(j));
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(at(j) - mx);
      for (int64_t j = 0; j < len; ++j) {
        at(j) = log ? at(j) - mx - std::log(sum) : std::exp(at(j) - mx) / sum;
      }
    }
  }
  out->push_back(FromDoubles(x->dtype(), x->dims(), v));
  return absl::OkStatus();
}

absl::Status ArgKernel(const KernelContext& ctx, std::vector<Tensor>* out,
                       bool max) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", 0), x->rank()));
  const bool keep = ctx.node.GetInt("keepdims", 1) != 0;
  const bool last = ctx.node.GetInt("select_last_index", 0) != 0;
  int64_t outer, len, inner;
  Around(x->dims(), axis, &outer, &len, &inner);
  if (len == 0) return Error(ctx, "cannot reduce an empty axis");
  Dims od = x->dims();
  if (keep)
    od[axis] = 1;
  else
    od.erase(od.begin() + axis);
  std::vector<int64_t> r(outer * inner);
  std::vector<double> v = AsDoubles(*x);
  std::vector<int64_t> vi;
  const bool ints = !IsFloat(x->dtype());
  const bool u = IsUnsigned(x->dtype());
  if (ints) vi = AsInts(*x);
  auto better = [&](int64_t a, int64_t b) {  // element a strictly better than b
    if (ints) {
      if (u) {
        uint64_t ua = vi[a], ub = vi[b];
        return max ? ua > ub : ua < ub;
      }
      return max ? vi[a] > vi[b] : vi[a] < vi[b];
    }
    return max ? v[a] > v[b] : v[a] < v[b];
  };
  auto equal = [&](int64_t a, int64_t b) {
    return ints ? vi[a] == vi[b] : v[a] == v[b];
  };
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      int64_t best = 0;
      for (int64_t j = 1; j < len; ++j) {
        int64_t a = (o * len + j) * inner + in;
        int64_t b = (o * len + best) * inner + in;
        if (better(a, b) || (last && equal(a, b))) best = j;
      }
      r[o * inner + in] = best;
    }
  }
  out->push_back(FromInts(DType::kI64, od, r));
  return absl::OkStatus();
}

absl::Status CumSumKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  if (ctx.input(1)->num_elements() != 1)
    return Error(ctx, "axis must be a scalar");
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.input(1)->GetInt(0), x.rank()));
  const bool excl = ctx.node.GetInt("exclusive", 0) != 0;
  const bool rev = ctx.node.GetInt("reverse", 0) != 0;
  int64_t outer, len, inner;
  Around(x.dims(), axis, &outer, &len, &inner);
  const bool fl = IsFloat(x.dtype());
  std::vector<double> v = fl ? AsDoubles(x) : std::vector<double>();
  std::vector<int64_t> vi = fl ? std::vector<int64_t>() : AsInts(x);
  std::vector<double> r(fl ? x.num_elements() : 0);
  std::vector<int64_t> ri(fl ? 0 : x.num_elements());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      double s = 0;
      int64_t si = 0;
      for (int64_t jj = 0; jj < len; ++jj) {
        int64_t j = rev ? len - 1 - jj : jj;
        int64_t i = (o * len + j) * inner + in;
        if (fl) {
          if (!excl) s += v[i];
          r[i] = s;
          if (excl) s += v[i];
        } else {
          if (!excl) si += vi[i];
          ri[i] = si;
          if (excl) si += vi[i];
        }
      }
    }
  }
  out->push_back(fl ? FromDoubles(x.dtype(), x.dims(), r)
                    : FromInts(x.dtype(), x.dims(), ri));
  return absl::OkStatus();
}

absl::Status TopKKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  int64_t k;
  if (ctx.input(1)) {
    if (ctx.input(1)->num_elements() != 1)
      return Error(ctx, "K must have one element");
    k = ctx.input(1)->GetInt(0);
  } else {
    k = ctx.node.GetInt("k", -1);  // opset < 10
  }
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", -1), x->rank()));
  const bool largest = ctx.node.GetInt("largest", 1) != 0;
  int64_t outer, len, inner;
  Around(x->dims(), axis, &outer, &len, &inner);
  if (k < 0 || k > len)
    return Error(ctx, "K ", k, " out of range [0, ", len, "]");
  Dims od = x->dims();
  od[axis] = k;
  Tensor vals = Tensor::Zeros(x->dtype(), od);
  std::vector<int64_t> idxs(outer * k * inner);
  const bool ints = !IsFloat(x->dtype());
  std::vector<double> v = ints ? std::vector<double>() : AsDoubles(*x);
  std::vector<int64_t> vi = ints ? AsInts(*x) : std::vector<int64_t>();
  const bool u = IsUnsigned(x->dtype());
  size_t es = DTypeSize(x->dtype());
  std::vector<int64_t> order(len);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t j) { return (o * len + j) * inner + in; };
      std::iota(order.begin(), order.end(), 0);
      // Ties: lower index first (stable sort on the index order).
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        int64_t ia = at(a), ib = at(b);
        if (ints) {
          if (u) {
            uint64_t ua = vi[ia], ub = vi[ib];
            return largest ? ua > ub : ua < ub;
          }
          return largest ? vi[ia] > vi[ib] : vi[ia] < vi[ib];
        }
        return largest ? v[ia] > v[ib] : v[ia] < v[ib];
      });
      for (int64_t j = 0; j < k; ++j) {
        int64_t dst = (o * k + j) * inner + in;
        idxs[dst] = order[j];
        std::memcpy(vals.mutable_raw() + dst * es, x->raw() + at(order[j]) * es,
                    es);
      }
    }
  }
  out->push_back(std::move(vals));
  out->push_back(FromInts(DType::kI64, od, idxs));
  return absl::OkStatus();
}

absl::Status LayerNormKernel(const KernelContext& ctx,
                             std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  const Tensor& scale = *ctx.input(1);
  const Tensor* bias = ctx.input(2);
  if (!IsFloat(x.dtype())) return Error(ctx, "input must be float");
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", -1), x.rank()));
  const double eps = ctx.node.GetFloat("epsilon", 1e-5f);
  const int64_t stash = ctx.node.GetInt("stash_type", 1);
  Dims nd(x.dims().begin() + axis, x.dims().end());
  Dims sd = x.dims();
  for (int i = axis; i < x.rank(); ++i) sd[i] = 1;
  int64_t rows = NumElements(sd), len = NumElements(nd);
  QEFF_ASSIGN_OR_RETURN(Dims bs, BroadcastShapes(ctx, {nd, scale.dims()}));
  if (bs != nd)
    return Error(ctx, "Scale ", scale.TypeString(), " does not broadcast to ",
                 DimsString(nd));
  auto si = BroadcastIndex(scale.dims(), nd);
  std::vector<int64_t> bi;
  std::vector<double> bv;
  if (bias) {
    QEFF_ASSIGN_OR_RETURN(Dims bb, BroadcastShapes(ctx, {nd, bias->dims()}));
    if (bb != nd) return Error(ctx, "B does not broadcast to ", DimsString(nd));
    bi = BroadcastIndex(bias->dims(), nd);
    bv = AsDoubles(*bias);
  }
  std::vector<double> v = AsDoubles(x), sv = AsDoubles(scale);
  std::vector<double> y(v.size()), mean(rows), inv(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const double* p = v.data() + r * len;
    double m = 0;
    for (int64_t j = 0; j < len; ++j) m += p[j];
    m /= static_cast<double>(len);
    double var = 0;
    for (int64_t j = 0; j < len; ++j) var += (p[j] - m) * (p[j] - m);
    var /= static_cast<double>(len);
    double is = 1.0 / std::sqrt(var + eps);
    mean[r] = m;
    inv[r] = is;
    for (int64_t j = 0; j < len; ++j) {
      double e = (p[j] - m) * is * sv[si[j]];
      if (bias) e += bv[bi[j]];
      y[r * len + j] = e;
    }
  }
  out->push_back(FromDoubles(x.dtype(), x.dims(), y));
  // Mean / InvStdDev have type U: float for stash_type 1, else X's type.
  DType u = stash == 1 ? DType::kF32 : x.dtype();
  out->push_back(FromDoubles(u, sd, mean));
  out->push_back(FromDoubles(u, sd, inv));
  return absl::OkStatus();
}

void RegReduce(const char* name, RedOp op) {
  RegisterKernel("", name,
                 [op](const KernelContext& ctx, std::vector<Tensor>* out) {
                   return Reduce(ctx, out, op);
                 });
}

}  // namespace

void RegisterReduceKernels() {
  RegReduce("ReduceSum", RedOp::kSum);
  RegReduce("ReduceMean", RedOp::kMean);
  RegReduce("ReduceMax", RedOp::kMax);
  RegReduce("ReduceMin", RedOp::kMin);
  RegReduce("ReduceProd", RedOp::kProd);
  RegReduce("ReduceSumSquare", RedOp::kSumSquare);
  RegReduce("ReduceL1", RedOp::kL1);
  RegReduce("ReduceL2", RedOp::kL2);
  RegReduce("ReduceLogSum", RedOp::kLogSum);
  RegReduce("ReduceLogSumExp", RedOp::kLogSumExp);
  RegisterKernel("", "Softmax",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return SoftmaxKernel(c, o, false);
                 });
  RegisterKernel("", "LogSoftmax",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return SoftmaxKernel(c, o, true);
                 });
  RegisterKernel("", "ArgMax",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return ArgKernel(c, o, true);
                 });
  RegisterKernel("", "ArgMin",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return ArgKernel(c, o, false);
                 });
  RegisterKernel("", "CumSum", CumSumKernel);
  RegisterKernel("", "TopK", TopKKernel);
  RegisterKernel("", "LayerNormalization", LayerNormKernel);
}

}  // namespace qeff::ir::kernels
