// Shape and data-movement kernels: Reshape, Flatten, Transpose, Concat,
// Split, Slice, Unsqueeze, Squeeze, Expand, Range, Trilu, Shape, Size,
// ConstantOfShape, Constant, Identity. These move elements as raw bytes and
// so work for every dtype.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

absl::Status ReshapeKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> shape, IntList(ctx, 1));
  const bool allowzero = ctx.node.GetInt("allowzero", 0) != 0;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowzero) {
      if (i >= x.dims().size()) {
        return Error(ctx, "shape ", DimsString(shape), " copies dim ", i,
                     " that ", x.TypeString(), " lacks");
      }
      shape[i] = x.dims()[i];
    }
    if (shape[i] == -1) {
      if (infer >= 0)
        return Error(ctx, "shape ", DimsString(shape), " has two -1");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return Error(ctx, "invalid shape ", DimsString(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.num_elements() % known != 0) {
      return Error(ctx, "cannot reshape ", x.TypeString(), " to ",
                   DimsString(shape));
    }
    shape[infer] = x.num_elements() / known;
  }
  if (NumElements(shape) != x.num_elements()) {
    return Error(ctx, "cannot reshape ", x.TypeString(), " to ",
                 DimsString(shape));
  }
  QEFF_ASSIGN_OR_RETURN(Tensor r, x.Reshaped(shape));
  out->push_back(std::move(r));
  return absl::OkStatus();
}

absl::Status FlattenKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  int64_t axis = ctx.node.GetInt("axis", 1);
  if (axis < 0) axis += x->rank();
  if (axis < 0 || axis > x->rank()) return Error(ctx, "axis out of range");
  int64_t a = 1, b = 1;
  for (int i = 0; i < x->rank(); ++i) (i < axis ? a : b) *= x->dims()[i];
  QEFF_ASSIGN_OR_RETURN(Tensor r, x->Reshaped({a, b}));
  out->push_back(std::move(r));
  return absl::OkStatus();
}

absl::Status TransposeKernel(const KernelContext& ctx,
                             std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  int r = x->rank();
  std::vector<int64_t> perm = ctx.node.GetInts("perm");
  if (perm.empty()) {
    for (int i = r - 1; i >= 0; --i) perm.push_back(i);
  }
  if (static_cast<int>(perm.size()) != r) {
    return Error(ctx, "perm ", DimsString(perm), " does not match rank ", r);
  }
  std::vector<bool> seen(r, false);
  for (int64_t& p : perm) {
    if (p < 0) p += r;
    if (p < 0 || p >= r || seen[p]) {
      return Error(ctx, "perm ", DimsString(perm), " is not a permutation");
    }
    seen[p] = true;
  }
  Dims od(r);
  for (int i = 0; i < r; ++i) od[i] = x->dims()[perm[i]];
  Dims is = Strides(x->dims());
  Dims ps(r);  // input stride of each output axis
  for (int i = 0; i < r; ++i) ps[i] = is[perm[i]];
  Tensor y = Tensor::Zeros(x->dtype(), od);
  size_t es = DTypeSize(x->dtype());
  int64_t n = y.num_elements();
  Dims pos(r, 0);
  int64_t src = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(y.mutable_raw() + i * es, x->raw() + src * es, es);
    for (int k = r - 1; k >= 0; --k) {
      if (++pos[k] < od[k]) {
        src += ps[k];
        break;
      }
      src -= ps[k] * (pos[k] - 1);
      pos[k] = 0;
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status ConcatKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  if (ctx.inputs.empty() || !ctx.inputs[0]) return Error(ctx, "no inputs");
  const Tensor& first = *ctx.inputs[0];
  const Attribute* a = ctx.node.attr("axis");
  if (!a) return Error(ctx, "missing attribute 'axis'");
  QEFF_ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, a->i(), first.rank()));
  Dims od = first.dims();
  od[axis] = 0;
  for (size_t k = 0; k < ctx.inputs.size(); ++k) {
    const Tensor* t = ctx.inputs[k];
    if (!t) return Error(ctx, "missing input ", k);
    if (t->dtype() != first.dtype() || t->rank() != first.rank()) {
      return Error(ctx, "input ", k, " ", t->TypeString(),
                   " does not match input 0 ", first.TypeString());
    }
    for (int i = 0; i < first.rank(); ++i) {
      if (i != axis && t->dims()[i] != first.dims()[i]) {
        return Error(ctx, "input ", k, " ", t->TypeString(),
                     " does not match input 0 ", first.TypeString());
      }
    }
    od[axis] += t->dims()[axis];
  }
  Tensor y = Tensor::Zeros(first.dtype(), od);
  size_t es = DTypeSize(first.dtype());
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= od[i];
  for (int i = axis + 1; i < first.rank(); ++i) inner *= od[i];
  int64_t off = 0;
  for (const Tensor* t : ctx.inputs) {
    int64_t chunk = t->dims()[axis] * inner * es;
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(y.mutable_raw() + (o * od[axis] * inner) * es + off,
                  t->raw() + o * chunk, chunk);
    }
    off += chunk;
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

// Copies the sub-block x[.., start:start+len, ..] along `axis`.
Tensor SliceAxis(const Tensor& x, int axis, int64_t start, int64_t len) {
  Dims od = x.dims();
  od[axis] = len;
  Tensor y = Tensor::Zeros(x.dtype(), od);
  size_t es = DTypeSize(x.dtype());
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= od[i];
  for (int i = axis + 1; i < x.rank(); ++i) inner *= od[i];
  for (int64_t o = 0; o < outer; ++o) {
    std::memcpy(y.mutable_raw() + o * len * inner * es,
                x.raw() + (o * x.dims()[axis] + start) * inner * es,
                len * inner * es);
  }
  return y;
}

absl::Status SplitKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", 0), x->rank()));
  int64_t n = static_cast<int64_t>(ctx.node.outputs.size());
  int64_t d = x->dims()[axis];
  std::vector<int64_t> split;
  if (ctx.input(1)) {
    QEFF_ASSIGN_OR_RETURN(split, IntList(ctx, 1));
  } else if (ctx.node.attr("split")) {
    split = ctx.node.GetInts("split");
  } else {
    // Equal parts; with num_outputs (opset 18) the last may be smaller.
    int64_t parts = ctx.node.GetInt("num_outputs", n);
    if (parts <= 0) return Error(ctx, "no outputs");
    int64_t each = (d + parts - 1) / parts;
    if (!ctx.node.attr("num_outputs") && d % parts != 0) {
      return Error(ctx, "dim ", d, " does not split into ", parts,
                   " equal parts");
    }
    for (int64_t i = 0; i < parts; ++i)
      split.push_back(std::max<int64_t>(0, std::min(each, d - i * each)));
  }
  if (static_cast<int64_t>(split.size()) != n) {
    return Error(ctx, "split has ", split.size(), " entries for ", n,
                 " outputs");
  }
  int64_t sum = 0;
  for (int64_t s : split) {
    if (s < 0) return Error(ctx, "negative split ", s);
    sum += s;
  }
  if (sum != d) {
    return Error(ctx, "split ", DimsString(split), " does not sum to dim ", d);
  }
  int64_t start = 0;
  for (int64_t s : split) {
    out->push_back(SliceAxis(*x, static_cast<int>(axis), start, s));
    start += s;
  }
  return absl::OkStatus();
}

absl::Status SliceKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor& x = *ctx.input(0);
  int r = x.rank();
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> starts, IntList(ctx, 1));
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> ends, IntList(ctx, 2));
  std::vector<int64_t> axes, steps;
  if (ctx.input(3)) {
    QEFF_ASSIGN_OR_RETURN(axes, IntList(ctx, 3));
  } else {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(i);
  }
  if (ctx.input(4)) {
    QEFF_ASSIGN_OR_RETURN(steps, IntList(ctx, 4));
  } else {
    steps.assign(starts.size(), 1);
  }
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    return Error(ctx, "starts/ends/axes/steps lengths differ");
  }
  Dims st(r, 0), sp(r, 1), od = x.dims();
  std::vector<bool> seen(r, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    QEFF_ASSIGN_OR_RETURN(int64_t a, NormAxis(ctx, axes[i], r));
    if (seen[a]) return Error(ctx, "axis ", a, " repeated");
    seen[a] = true;
    int64_t d = x.dims()[a], s = starts[i], e = ends[i], step = steps[i];
    if (step == 0) return Error(ctx, "step 0");
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t cnt;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      cnt = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      cnt = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    st[a] = s;
    sp[a] = step;
    od[a] = cnt;
  }
  Tensor y = Tensor::Zeros(x.dtype(), od);
  int64_t n = y.num_elements();
  size_t es = DTypeSize(x.dtype());
  Dims is = Strides(x.dims());
  Dims pos(r, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;
    for (int k = 0; k < r; ++k) src += (st[k] + pos[k] * sp[k]) * is[k];
    std::memcpy(y.mutable_raw() + i * es, x.raw() + src * es, es);
    for (int k = r - 1; k >= 0; --k) {
      if (++pos[k] < od[k]) break;
      pos[k] = 0;
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> AxesInputOrAttr(const KernelContext& ctx,
                                                     int i) {
  if (ctx.input(i)) return IntList(ctx, i);
  return ctx.node.GetInts("axes");
}

absl::Status UnsqueezeKernel(const KernelContext& ctx,
                             std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesInputOrAttr(ctx, 1));
  int64_t r = x->rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> is_new(r, false);
  for (int64_t a : axes) {
    QEFF_ASSIGN_OR_RETURN(int64_t na, NormAxis(ctx, a, r));
    if (is_new[na]) return Error(ctx, "axis ", a, " repeated");
    is_new[na] = true;
  }
  Dims od;
  size_t k = 0;
  for (int64_t i = 0; i < r; ++i) od.push_back(is_new[i] ? 1 : x->dims()[k++]);
  QEFF_ASSIGN_OR_RETURN(Tensor y, x->Reshaped(od));
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status SqueezeKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesInputOrAttr(ctx, 1));
  std::vector<bool> drop(x->rank(), false);
  if (axes.empty()) {
    for (int i = 0; i < x->rank(); ++i) drop[i] = x->dims()[i] == 1;
  }
  for (int64_t a : axes) {
    QEFF_ASSIGN_OR_RETURN(int64_t na, NormAxis(ctx, a, x->rank()));
    if (x->dims()[na] != 1) {
      return Error(ctx, "cannot squeeze axis ", a, " of ", x->TypeString());
    }
    drop[na] = true;
  }
  Dims od;
  for (int i = 0; i < x->rank(); ++i)
    if (!drop[i]) od.push_back(x->dims()[i]);
  QEFF_ASSIGN_OR_RETURN(Tensor y, x->Reshaped(od));
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status ExpandKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> shape, IntList(ctx, 1));
  QEFF_ASSIGN_OR_RETURN(Dims od, BroadcastShapes(ctx, {x.dims(), shape}));
  auto idx = BroadcastIndex(x.dims(), od);
  Tensor y = Tensor::Zeros(x.dtype(), od);
  size_t es = DTypeSize(x.dtype());
  for (int64_t i = 0; i < y.num_elements(); ++i)
    std::memcpy(y.mutable_raw() + i * es, x.raw() + idx[i] * es, es);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status RangeKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor &s = *ctx.input(0), &l = *ctx.input(1), &d = *ctx.input(2);
  for (const Tensor* t : {&s, &l, &d}) {
    if (t->num_elements() != 1 || t->dtype() != s.dtype()) {
      return Error(ctx, "start/limit/delta must be scalars of one type, got ",
                   t->TypeString());
    }
  }
  DType t = s.dtype();
  if (IsFloat(t)) {
    double a = s.GetDouble(0), b = l.GetDouble(0), c = d.GetDouble(0);
    if (c == 0) return Error(ctx, "delta is 0");
    int64_t n =
        std::max<int64_t>(0, static_cast<int64_t>(std::ceil((b - a) / c)));
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = a + i * c;
    out->push_back(FromDoubles(t, {n}, v));
  } else {
    int64_t a = s.GetInt(0), b = l.GetInt(0), c = d.GetInt(0);
    if (c == 0) return Error(ctx, "delta is 0");
    int64_t span = b - a;
    int64_t n = c > 0 ? (span > 0 ? (span + c - 1) / c : 0)
                      : (span < 0 ? (-span + (-c) - 1) / (-c) : 0);
    std::vector<int64_t> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = a + i * c;
    out->push_back(FromInts(t, {n}, v));
  }
  return absl::OkStatus();
}

absl::Status TriluKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  if (x->rank() < 2) return Error(ctx, "input must have rank >= 2");
  int64_t k = 0;
  if (ctx.input(1)) {
    if (ctx.input(1)->num_elements() != 1)
      return Error(ctx, "k must be a scalar");
    k = ctx.input(1)->GetInt(0);
  }
  const bool upper = ctx.node.GetInt("upper", 1) != 0;
  Tensor y = Clone(*x);
  int64_t rows = x->dims()[x->rank() - 2], cols = x->dims()[x->rank() - 1];
  size_t es = DTypeSize(x->dtype());
  int64_t mats = rows * cols == 0 ? 0 : x->num_elements() / (rows * cols);
  for (int64_t m = 0; m < mats; ++m) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        bool keep = upper ? j - i >= k : j - i <= k;
        if (!keep)
          std::memset(y.mutable_raw() + ((m * rows + i) * cols + j) * es, 0,
                      es);
      }
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status ShapeKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  int64_t r = x->rank();
  int64_t s = ctx.node.GetInt("start", 0), e = ctx.node.GetInt("end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = std::clamp<int64_t>(s, 0, r);
  e = std::clamp<int64_t>(e, 0, r);
  std::vector<int64_t> v;
  for (int64_t i = s; i < e; ++i) v.push_back(x->dims()[i]);
  out->push_back(Tensor::I64({static_cast<int64_t>(v.size())}, v));
  return absl::OkStatus();
}

absl::Status ConstantOfShapeKernel(const KernelContext& ctx,
                                   std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> shape, IntList(ctx, 0));
  for (int64_t d : shape)
    if (d < 0) return Error(ctx, "negative dim in ", DimsString(shape));
  const Attribute* a = ctx.node.attr("value");
  Tensor value = Tensor::ScalarF32(0);
  if (a) {
    if (a->kind() != Attribute::Kind::kTensor || a->t().num_elements() != 1) {
      return Error(ctx, "'value' must be a one-element tensor");
    }
    value = a->t();
  }
  Tensor y = Tensor::Zeros(value.dtype(), shape);
  size_t es = DTypeSize(value.dtype());
  for (int64_t i = 0; i < y.num_elements(); ++i)
    std::memcpy(y.mutable_raw() + i * es, value.raw(), es);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status ConstantKernel(const KernelContext& ctx,
                            std::vector<Tensor>* out) {
  const Node& n = ctx.node;
  if (const Attribute* a = n.attr("value")) {
    out->push_back(a->t());
  } else if (const Attribute* a = n.attr("value_float")) {
    out->push_back(Tensor::ScalarF32(a->f()));
  } else if (const Attribute* a = n.attr("value_floats")) {
    out->push_back(
        Tensor::F32({static_cast<int64_t>(a->floats().size())}, a->floats()));
  } else if (const Attribute* a = n.attr("value_int")) {
    out->push_back(Tensor::ScalarI64(a->i()));
  } else if (const Attribute* a = n.attr("value_ints")) {
    out->push_back(
        Tensor::I64({static_cast<int64_t>(a->ints().size())}, a->ints()));
  } else {
    return Error(ctx, "no supported value attribute");
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterShapeKernels() {
  RegisterKernel("", "Reshape", ReshapeKernel);
  RegisterKernel("", "Flatten", FlattenKernel);
  RegisterKernel("", "Transpose", TransposeKernel);
  RegisterKernel("", "Concat", ConcatKernel);
  RegisterKernel("", "Split", SplitKernel);
  RegisterKernel("", "Slice", SliceKernel);
  RegisterKernel("", "Unsqueeze", UnsqueezeKernel);
  RegisterKernel("", "Squeeze", SqueezeKernel);
  RegisterKernel("", "Expand", ExpandKernel);
  RegisterKernel("", "Range", RangeKernel);
  RegisterKernel("", "Trilu", TriluKernel);
  RegisterKernel("", "Shape", ShapeKernel);
  RegisterKernel("", "Size",
                 [](const KernelContext& ctx, std::vector<Tensor>* out) {
                   QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
                   out->push_back(Tensor::ScalarI64(x->num_elements()));
                   return absl::OkStatus();
                 });
  RegisterKernel("", "ConstantOfShape", ConstantOfShapeKernel);
  RegisterKernel("", "Constant", ConstantKernel);
  RegisterKernel("", "Identity",
                 [](const KernelContext& ctx, std::vector<Tensor>* out) {
                   QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
                   out->push_back(*x);
                   return absl::OkStatus();
                 });
}

}  // namespace qeff::ir::kernels
