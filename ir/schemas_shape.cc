// Shape-manipulating ops: Reshape, Transpose, Concat, Split, Slice, Gather,
// GatherND, ScatterND, Unsqueeze, Squeeze, Expand, Shape, ConstantOfShape,
// Range, Constant. These carry most of the value inference.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/status_macros.h"
#include "ir/schemas_internal.h"

namespace qeff::ir::schemas {

namespace {

// Shape of a shape-like input of length unknown to value inference: rank
// from the input's own static shape [n], else unranked.
Shape UnknownFromShapeInput(const InferenceContext& ctx, int i) {
  const Shape& s = ctx.input_type(i).shape;
  if (s.ranked() && s.rank() == 1 && s[0].is_static())
    return UnknownDims(static_cast<int>(s[0].value()));
  return Shape::Unranked();
}

// Values pass through ops that keep the elements (Reshape/Squeeze/...) when
// the output is rank <= 1.
void PassValue(InferenceContext& ctx) {
  const Shape& s = ctx.outputs[0].shape;
  if (!s.ranked() || s.rank() > 1) return;
  if (const std::vector<Dim>* v = ctx.input_dims_value(0))
    ctx.set_output_dims_value(0, *v);
}

absl::Status Reshape(InferenceContext& ctx) {
  QEFF_RETURN_IF_ERROR(CheckRank(ctx, 1, 1, "shape (input 1)"));
  const TensorType& x = ctx.input_type(0);
  const std::vector<Dim>* target = ctx.input_dims_value(1);
  if (target == nullptr) {
    SetOutput(ctx, 0, x.dtype, UnknownFromShapeInput(ctx, 1));
    return absl::OkStatus();
  }
  bool allowzero = ctx.node().GetInt("allowzero", 0) != 0;
  std::vector<Dim> out(target->size());
  int infer_at = -1;
  for (int i = 0; i < static_cast<int>(target->size()); ++i) {
    const Dim& d = (*target)[i];
    if (d.is_static() && d.value() == -1) {
      if (infer_at >= 0) return Error("shape has more than one -1");
      infer_at = i;
    } else if (d.is_static() && d.value() == 0 && !allowzero) {
      if (!x.shape.ranked()) {
        out[i] = Dim::Unknown();
      } else if (i >= x.shape.rank()) {
        return Error("shape[", i, "] = 0 copies a dim the input ",
                     x.shape.ToString(), " does not have");
      } else {
        out[i] = x.shape[i];
      }
    } else if (d.is_static() && d.value() < 0) {
      return Error("shape[", i, "] = ", d.value(), " is negative");
    } else {
      out[i] = d;
    }
  }
  if (infer_at >= 0) {
    if (!x.shape.ranked()) {
      out[infer_at] = Dim::Unknown();
    } else {
      std::vector<Dim> others;
      for (int i = 0; i < static_cast<int>(out.size()); ++i)
        if (i != infer_at) others.push_back(out[i]);
      if (x.shape.is_static() && Shape(others).is_static()) {
        int64_t total = x.shape.NumElements(),
                part = NumElements(Shape(others).StaticDims());
        if (part == 0 || total % part != 0)
          return Error("cannot reshape ", x.shape.ToString(), " to ",
                       Shape(*target).ToString());
        out[infer_at] = total / part;
      } else {
        out[infer_at] = DivideProducts(x.shape.dims(), others);
      }
    }
  }
  Shape result(out);
  if (x.shape.is_static() && result.is_static() &&
      x.shape.NumElements() != result.NumElements()) {
    return Error("cannot reshape ", x.shape.ToString(), " (",
                 x.shape.NumElements(), " elements) to ", result.ToString());
  }
  SetOutput(ctx, 0, x.dtype, std::move(result));
  PassValue(ctx);
  return absl::OkStatus();
}

absl::Status Transpose(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  if (!x.shape.ranked()) {
    SetOutput(ctx, 0, x.dtype, Shape::Unranked());
    return absl::OkStatus();
  }
  int r = x.shape.rank();
  std::vector<int64_t> perm = ctx.node().GetInts("perm");
  if (ctx.node().attr("perm") == nullptr) {
    for (int i = r - 1; i >= 0; --i) perm.push_back(i);
  }
  if (static_cast<int>(perm.size()) != r)
    return Error("perm has ", perm.size(), " entries for rank ", r);
  std::vector<bool> seen(r, false);
  std::vector<Dim> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[p])
      return Error("perm is not a permutation of 0..", r - 1);
    seen[p] = true;
    out.push_back(x.shape[p]);
  }
  SetOutput(ctx, 0, x.dtype, Shape(out));
  return absl::OkStatus();
}

// Two dims that must be equal: keeps the more specific one.
absl::StatusOr<Dim> MergeEqualDims(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static() && a.value() != b.value())
    return Error("dims ", a.value(), " and ", b.value(), " differ");
  if (a.is_unknown()) return b;
  if (b.is_static()) return b;
  return a;
}

absl::Status Concat(InferenceContext& ctx) {
  DType t = ctx.input_type(0).dtype;
  std::optional<int> rank;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const TensorType& ti = ctx.input_type(i);
    if (ti.dtype != t)
      return Error("input ", i, " is ", ti.ToString(), ", expected dtype ",
                   DTypeName(t));
    if (ti.shape.ranked()) {
      if (rank && *rank != ti.shape.rank())
        return Error("input ", i, " has rank ", ti.shape.rank(), ", expected ",
                     *rank);
      rank = ti.shape.rank();
    }
  }
  if (!rank) {
    SetOutput(ctx, 0, t, Shape::Unranked());
    return absl::OkStatus();
  }
  QEFF_ASSIGN_OR_RETURN(
      int axis, NormalizeAxis(ctx.node().GetInt("axis", 0), *rank, "axis"));
  std::vector<Dim> out;
  bool all_ranked = true;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Shape& s = ctx.input_type(i).shape;
    if (!s.ranked()) {
      all_ranked = false;
      continue;
    }
    if (out.empty()) {
      out = s.dims();
      continue;
    }
    for (int d = 0; d < *rank; ++d) {
      if (d == axis) {
        out[d] = out[d] + s[d];
      } else {
        auto m = MergeEqualDims(out[d], s[d]);
        if (!m.ok())
          return Error("input ", i, " dim ", d, ": ", m.status().message());
        out[d] = *m;
      }
    }
  }
  if (!all_ranked) out[axis] = Dim::Unknown();
  SetOutput(ctx, 0, t, Shape(out));
  // Value inference: concatenation of known 1-D values.
  if (*rank == 1) {
    std::vector<Dim> v;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const std::vector<Dim>* vi = ctx.input_dims_value(i);
      if (vi == nullptr) return absl::OkStatus();
      v.insert(v.end(), vi->begin(), vi->end());
    }
    ctx.set_output_dims_value(0, std::move(v));
  }
  return absl::OkStatus();
}

absl::Status Split(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  int n = ctx.num_outputs();
  if (!x.shape.ranked()) {
    for (int i = 0; i < n; ++i) SetOutput(ctx, i, x.dtype, Shape::Unranked());
    return absl::OkStatus();
  }
  QEFF_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node().GetInt("axis", 0),
                                                x.shape.rank(), "axis"));
  const Dim& d = x.shape[axis];
  std::vector<Dim> sizes;
  if (ctx.has_input(1)) {
    const std::vector<Dim>* split = ctx.input_dims_value(1);
    if (split == nullptr) {
      sizes.assign(n, Dim::Unknown());
    } else {
      if (static_cast<int>(split->size()) != n)
        return Error("split has ", split->size(), " sizes for ", n, " outputs");
      sizes = *split;
      Dim total = 0;
      for (const Dim& s : sizes) total = total + s;
      if (d.is_static() && total.is_static() && total.value() != d.value())
        return Error("split sizes sum to ", total.value(), ", axis ", axis,
                     " has ", d.value());
    }
  } else {
    if (d.is_static() && d.value() % n != 0)
      return Error("axis ", axis, " of size ", d.value(),
                   " does not split into ", n, " equal parts");
    sizes.assign(n, Dim::FloorDiv(d, n));
  }
  for (int i = 0; i < n; ++i) {
    Shape s = x.shape;
    s.mutable_dims()[axis] = sizes[i];
    SetOutput(ctx, i, x.dtype, std::move(s));
  }
  return absl::OkStatus();
}

constexpr int64_t kBigEnd = std::numeric_limits<int32_t>::max();

// One sliced dim for a step of 1 where something is symbolic. A symbolic dim
// is assumed to be at least as large as a negative static start or end
// (`x[-1:]` has one element), as in every model graph qeff builds.
Dim SymbolicSliceDim(const Dim& dim, const Dim& s, const Dim& e) {
  bool e_to_end = e.is_static() && e.value() >= kBigEnd;
  if (s.is_static() && s.value() < 0) {
    if (e_to_end) return Dim(-s.value());
    if (e.is_static() && e.value() < 0)
      return Dim(std::max<int64_t>(0, e.value() - s.value()));
    return Dim::Unknown();
  }
  if (s.is_unknown() || e.is_unknown()) return Dim::Unknown();
  if (e_to_end) return dim - s;
  if (e.is_static() && e.value() < 0) return dim - (s - e);
  // A static end may clamp to the symbolic dim: unknown. A symbolic end
  // (e.g. `seq_len` from Shape) is assumed not to exceed the dim.
  if (e.is_static()) return Dim::Unknown();
  return e - s;
}

int64_t StaticSliceLen(int64_t dim, int64_t s, int64_t e, int64_t step) {
  if (s < 0) s += dim;
  if (e < 0) e += dim;
  if (step > 0) {
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    return e > s ? (e - s + step - 1) / step : 0;
  }
  s = std::clamp<int64_t>(s, 0, dim - 1);
  e = std::clamp<int64_t>(e, -1, dim - 1);
  return s > e ? (s - e - step - 1) / -step : 0;
}

absl::Status Slice(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  if (!x.shape.ranked()) {
    SetOutput(ctx, 0, x.dtype, Shape::Unranked());
    return absl::OkStatus();
  }
  int r = x.shape.rank();
  const std::vector<Dim>* starts = ctx.input_dims_value(1);
  const std::vector<Dim>* ends = ctx.input_dims_value(2);
  std::optional<std::vector<int64_t>> axes, steps;
  if (ctx.has_input(3)) axes = ctx.input_static_ints(3);
  if (ctx.has_input(4)) steps = ctx.input_static_ints(4);
  bool axes_known = !ctx.has_input(3) || axes.has_value();
  bool steps_known = !ctx.has_input(4) || steps.has_value();
  std::vector<Dim> out = x.shape.dims();
  if (!starts || !ends || !axes_known || !steps_known) {
    if (axes_known && axes) {
      for (int64_t a : *axes) {
        QEFF_ASSIGN_OR_RETURN(int ax, NormalizeAxis(a, r, "axes entry"));
        out[ax] = Dim::Unknown();
      }
    } else {
      out.assign(r, Dim::Unknown());
    }
    SetOutput(ctx, 0, x.dtype, Shape(out));
    return absl::OkStatus();
  }
  size_t k = starts->size();
  if (ends->size() != k || (axes && axes->size() != k) ||
      (steps && steps->size() != k))
    return Error("starts, ends, axes and steps differ in length");
  std::vector<bool> seen(r, false);
  for (size_t i = 0; i < k; ++i) {
    int64_t a = axes ? (*axes)[i] : static_cast<int64_t>(i);
    QEFF_ASSIGN_OR_RETURN(int ax, NormalizeAxis(a, r, "axes entry"));
    if (seen[ax]) return Error("axis ", ax, " is sliced twice");
    seen[ax] = true;
    int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0) return Error("step is 0");
    const Dim &s = (*starts)[i], &e = (*ends)[i], &dim = x.shape[ax];
    if (dim.is_static() && s.is_static() && e.is_static()) {
      out[ax] = StaticSliceLen(dim.value(), s.value(), e.value(), step);
    } else if (step == 1) {
      out[ax] = SymbolicSliceDim(dim, s, e);
    } else {
      out[ax] = Dim::Unknown();
    }
  }
  SetOutput(ctx, 0, x.dtype, Shape(out));
  // Value inference on a known 1-D value with static bounds.
  const std::vector<Dim>* v = ctx.input_dims_value(0);
  if (v && r == 1 && k == 1) {
    auto st = ctx.input_static_ints(1), en = ctx.input_static_ints(2);
    if (st && en) {
      int64_t n = static_cast<int64_t>(v->size());
      int64_t s = (*st)[0], e = (*en)[0], step = steps ? (*steps)[0] : 1;
      if (s < 0) s += n;
      if (e < 0) e += n;
      std::vector<Dim> res;
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, n);
        e = std::clamp<int64_t>(e, 0, n);
        for (int64_t i = s; i < e; i += step) res.push_back((*v)[i]);
      } else {
        s = std::clamp<int64_t>(s, 0, n - 1);
        e = std::clamp<int64_t>(e, -1, n - 1);
        for (int64_t i = s; i > e; i += step) res.push_back((*v)[i]);
      }
      ctx.set_output_dims_value(0, std::move(res));
    }
  }
  return absl::OkStatus();
}

absl::Status Gather(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  const TensorType& idx = ctx.input_type(1);
  if (!IsInteger(idx.dtype))
    return Error("indices must be integers, got ", idx.ToString());
  if (!x.shape.ranked() || !idx.shape.ranked()) {
    SetOutput(ctx, 0, x.dtype, Shape::Unranked());
    return absl::OkStatus();
  }
  int r = x.shape.rank();
  if (r == 0) return Error("data must have rank >= 1");
  QEFF_ASSIGN_OR_RETURN(int axis,
                        NormalizeAxis(ctx.node().GetInt("axis", 0), r, "axis"));
  std::vector<Dim> out(x.shape.dims().begin(), x.shape.dims().begin() + axis);
  out.insert(out.end(), idx.shape.dims().begin(), idx.shape.dims().end());
  out.insert(out.end(), x.shape.dims().begin() + axis + 1,
             x.shape.dims().end());
  SetOutput(ctx, 0, x.dtype, Shape(out));
  const std::vector<Dim>* v = ctx.input_dims_value(0);
  auto indices = ctx.input_static_ints(1);
  if (v && indices && r == 1) {
    std::vector<Dim> res;
    int64_t n = static_cast<int64_t>(v->size());
    for (int64_t i : *indices) {
      if (i < -n || i >= n)
        return Error("index ", i, " out of range [", -n, ", ", n, ")");
      res.push_back((*v)[i < 0 ? i + n : i]);
    }
    ctx.set_output_dims_value(0, std::move(res));
  }
  return absl::OkStatus();
}

absl::Status GatherND(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  const TensorType& idx = ctx.input_type(1);
  if (!IsInteger(idx.dtype))
    return Error("indices must be integers, got ", idx.ToString());
  int64_t b = ctx.node().GetInt("batch_dims", 0);
  if (!x.shape.ranked() || !idx.shape.ranked() || idx.shape.rank() == 0 ||
      !idx.shape.dims().back().is_static()) {
    SetOutput(ctx, 0, x.dtype, Shape::Unranked());
    return absl::OkStatus();
  }
  int64_t k = idx.shape.dims().back().value();
  if (b < 0 || b + k > x.shape.rank())
    return Error("indices' last dim ", k, " plus batch_dims ", b,
                 " exceeds data rank ", x.shape.rank());
  std::vector<Dim> out(idx.shape.dims().begin(), idx.shape.dims().end() - 1);
  out.insert(out.end(), x.shape.dims().begin() + b + k, x.shape.dims().end());
  SetOutput(ctx, 0, x.dtype, Shape(out));
  return absl::OkStatus();
}

absl::Status ScatterND(InferenceContext& ctx) {
  if (ctx.input_type(2).dtype != ctx.input_type(0).dtype)
    return Error("updates ", ctx.input_type(2).ToString(),
                 " differ in dtype from data ", ctx.input_type(0).ToString());
  if (!IsInteger(ctx.input_type(1).dtype))
    return Error("indices must be integers");
  std::string red = ctx.node().GetString("reduction", "none");
  if (red != "none" && red != "add" && red != "mul")
    return Error("reduction '", red, "' is not none, add or mul");
  return SameAsInput0(ctx);
}

absl::Status Unsqueeze(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  auto axes = ctx.input_static_ints(1);
  if (!x.shape.ranked() || !axes) {
    Shape a = UnknownFromShapeInput(ctx, 1);
    SetOutput(ctx, 0, x.dtype,
              x.shape.ranked() && a.ranked()
                  ? UnknownDims(x.shape.rank() + a.rank())
                  : Shape::Unranked());
    return absl::OkStatus();
  }
  int r = x.shape.rank() + static_cast<int>(axes->size());
  std::vector<bool> is_new(r, false);
  for (int64_t a : *axes) {
    QEFF_ASSIGN_OR_RETURN(int ax, NormalizeAxis(a, r, "axes entry"));
    if (is_new[ax]) return Error("axis ", ax, " repeats");
    is_new[ax] = true;
  }
  std::vector<Dim> out;
  int j = 0;
  for (int i = 0; i < r; ++i) out.push_back(is_new[i] ? Dim(1) : x.shape[j++]);
  SetOutput(ctx, 0, x.dtype, Shape(out));
  PassValue(ctx);
  return absl::OkStatus();
}

absl::Status Squeeze(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  if (!x.shape.ranked()) {
    SetOutput(ctx, 0, x.dtype, Shape::Unranked());
    return absl::OkStatus();
  }
  int r = x.shape.rank();
  std::vector<bool> drop(r, false);
  if (ctx.has_input(1)) {
    auto axes = ctx.input_static_ints(1);
    if (!axes) {
      SetOutput(ctx, 0, x.dtype, Shape::Unranked());
      return absl::OkStatus();
    }
    for (int64_t a : *axes) {
      QEFF_ASSIGN_OR_RETURN(int ax, NormalizeAxis(a, r, "axes entry"));
      const Dim& d = x.shape[ax];
      if (d.is_static() && d.value() != 1)
        return Error("cannot squeeze axis ", ax, " of size ", d.value());
      drop[ax] = true;
    }
  } else {
    for (int i = 0; i < r; ++i) {
      const Dim& d = x.shape[i];
      if (!d.is_static()) {  // might be 1: rank unknown
        SetOutput(ctx, 0, x.dtype, Shape::Unranked());
        return absl::OkStatus();
      }
      drop[i] = d.value() == 1;
    }
  }
  std::vector<Dim> out;
  for (int i = 0; i < r; ++i)
    if (!drop[i]) out.push_back(x.shape[i]);
  SetOutput(ctx, 0, x.dtype, Shape(out));
  PassValue(ctx);
  return absl::OkStatus();
}

absl::Status Expand(InferenceContext& ctx) {
  QEFF_RETURN_IF_ERROR(CheckRank(ctx, 1, 1, "shape (input 1)"));
  const TensorType& x = ctx.input_type(0);
  const std::vector<Dim>* target = ctx.input_dims_value(1);
  Shape t;
  if (target != nullptr) {
    for (const Dim& d : *target)
      if (d.is_static() && d.value() < 0)
        return Error("shape has negative entry ", d.value());
    t = Shape(*target);
  } else {
    t = UnknownFromShapeInput(ctx, 1);
  }
  QEFF_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(x.shape, t));
  SetOutput(ctx, 0, x.dtype, std::move(out));
  return absl::OkStatus();
}

absl::Status ShapeOp(InferenceContext& ctx) {
  const Shape& s = ctx.input_type(0).shape;
  if (!s.ranked()) {
    SetOutput(ctx, 0, DType::kI64, Shape({Dim::Unknown()}));
    return absl::OkStatus();
  }
  int r = s.rank();
  int64_t start = ctx.node().GetInt("start", 0);
  int64_t end = ctx.node().GetInt("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  std::vector<Dim> v;
  for (int64_t i = start; i < end; ++i) v.push_back(s[i]);
  SetOutput(ctx, 0, DType::kI64, Shape({Dim(static_cast<int64_t>(v.size()))}));
  ctx.set_output_dims_value(0, std::move(v));
  return absl::OkStatus();
}

absl::Status ConstantOfShape(InferenceContext& ctx) {
  QEFF_RETURN_IF_ERROR(CheckRank(ctx, 0, 1, "shape (input 0)"));
  DType t = DType::kF32;
  const Attribute* value = ctx.node().attr("value");
  if (value != nullptr) {
    if (value->t().num_elements() != 1)
      return Error("value must hold one element, has ",
                   value->t().num_elements());
    t = value->t().dtype();
  }
  const std::vector<Dim>* target = ctx.input_dims_value(0);
  if (target == nullptr) {
    SetOutput(ctx, 0, t, UnknownFromShapeInput(ctx, 0));
    return absl::OkStatus();
  }
  for (const Dim& d : *target)
    if (d.is_static() && d.value() < 0)
      return Error("shape has negative entry ", d.value());
  Shape s(*target);
  SetOutput(ctx, 0, t, s);
  if (IsInteger(t) && s.is_static() && s.rank() <= 1 &&
      s.NumElements() <= kMaxSymbolicValueElements) {
    int64_t fill = value ? value->t().GetInt(0) : 0;
    ctx.set_output_dims_value(0, std::vector<Dim>(s.NumElements(), Dim(fill)));
  }
  return absl::OkStatus();
}

absl::Status Range(InferenceContext& ctx) {
  DType t = ctx.input_type(0).dtype;
  for (int i = 0; i < 3; ++i) {
    const TensorType& ti = ctx.input_type(i);
    if (ti.dtype != t)
      return Error("input ", i, " is ", ti.ToString(), ", expected dtype ",
                   DTypeName(t));
    if (ti.shape.ranked() && ti.shape.rank() != 0)
      return Error("input ", i, " must be a scalar, got ", ti.ToString());
  }
  Dim n = Dim::Unknown();
  if (IsInteger(t)) {
    const std::vector<Dim>* s = ctx.input_dims_value(0);
    const std::vector<Dim>* l = ctx.input_dims_value(1);
    const std::vector<Dim>* d = ctx.input_dims_value(2);
    if (s && l && d && s->size() == 1 && l->size() == 1 && d->size() == 1) {
      const Dim &a = (*s)[0], &b = (*l)[0], &c = (*d)[0];
      if (a.is_static() && b.is_static() && c.is_static()) {
        if (c.value() == 0) return Error("delta is 0");
        int64_t len = std::max<int64_t>(
            0, (b.value() - a.value() + c.value() + (c.value() > 0 ? -1 : 1)) /
                   c.value());
        n = len;
        if (len <= kMaxSymbolicValueElements) {
          std::vector<Dim> v;
          for (int64_t i = 0; i < len; ++i)
            v.push_back(a.value() + i * c.value());
          ctx.set_output_dims_value(0, std::move(v));
        }
      } else if (c.is_static() && c.value() == 1) {
        n = b - a;
      }
    }
  } else if (ctx.input_constant(0) && ctx.input_constant(1) &&
             ctx.input_constant(2)) {
    double a = ctx.input_constant(0)->GetDouble(0);
    double b = ctx.input_constant(1)->GetDouble(0);
    double c = ctx.input_constant(2)->GetDouble(0);
    if (c == 0) return Error("delta is 0");
    n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((b - a) / c)));
  }
  SetOutput(ctx, 0, t, Shape({n}));
  return absl::OkStatus();
}

absl::Status Constant(InferenceContext& ctx) {
  const Node& n = ctx.node();
  if (n.attrs.size() != 1)
    return Error(
        "needs exactly one of value, value_float, value_floats, "
        "value_int, value_ints; has ",
        n.attrs.size(), " attributes");
  const auto& [name, a] = *n.attrs.begin();
  if (name == "value") {
    const Tensor& t = a.t();
    SetOutput(ctx, 0, t.dtype(), Shape::Of(t.dims()));
    if (IsInteger(t.dtype()) && t.has_storage() && !t.is_quantized() &&
        t.rank() <= 1 && t.num_elements() <= kMaxSymbolicValueElements) {
      std::vector<Dim> v;
      for (int64_t i = 0; i < t.num_elements(); ++i)
        v.emplace_back(t.GetInt(i));
      ctx.set_output_dims_value(0, std::move(v));
    }
  } else if (name == "value_float") {
    SetOutput(ctx, 0, DType::kF32, Shape());
  } else if (name == "value_floats") {
    SetOutput(ctx, 0, DType::kF32,
              Shape({Dim(static_cast<int64_t>(a.floats().size()))}));
  } else if (name == "value_int") {
    SetOutput(ctx, 0, DType::kI64, Shape());
    ctx.set_output_dims_value(0, {Dim(a.i())});
  } else {  // value_ints
    SetOutput(ctx, 0, DType::kI64,
              Shape({Dim(static_cast<int64_t>(a.ints().size()))}));
    ctx.set_output_dims_value(
        0, std::vector<Dim>(a.ints().begin(), a.ints().end()));
  }
  return absl::OkStatus();
}

OpSchema Make(std::string op, int min_in, int max_in,
              absl::Status (*f)(InferenceContext&),
              std::vector<AttrSpec> attrs = {}, int min_out = 1,
              int max_out = 1) {
  OpSchema s;
  s.op_type = std::move(op);
  s.min_inputs = min_in;
  s.max_inputs = max_in;
  s.min_outputs = min_out;
  s.max_outputs = max_out;
  s.infer = f;
  s.attrs = std::move(attrs);
  return s;
}

}  // namespace

void RegisterShapeOps(Registry* r) {
  r->push_back(Make("Reshape", 2, 2, Reshape, {Attr("allowzero", kInt)}));
  r->push_back(Make("Transpose", 1, 1, Transpose, {Attr("perm", kInts)}));
  r->push_back(
      Make("Concat", 1, kVariadic, Concat, {Attr("axis", kInt, true)}));
  r->push_back(Make("Split", 1, 2, Split, {Attr("axis", kInt)}, 1, kVariadic));
  r->push_back(Make("Slice", 3, 5, Slice));
  r->push_back(Make("Gather", 2, 2, Gather, {Attr("axis", kInt)}));
  r->push_back(Make("GatherND", 2, 2, GatherND, {Attr("batch_dims", kInt)}));
  r->push_back(
      Make("ScatterND", 3, 3, ScatterND, {Attr("reduction", kString)}));
  r->push_back(Make("Unsqueeze", 2, 2, Unsqueeze));
  r->push_back(Make("Squeeze", 1, 2, Squeeze));
  r->push_back(Make("Expand", 2, 2, Expand));
  r->push_back(
      Make("Shape", 1, 1, ShapeOp, {Attr("start", kInt), Attr("end", kInt)}));
  r->push_back(Make("ConstantOfShape", 1, 1, ConstantOfShape,
                    {Attr("value", kTensorAttr)}));
  r->push_back(Make("Range", 3, 3, Range));
  r->push_back(Make("Constant", 0, 0, Constant,
                    {Attr("value", kTensorAttr), Attr("value_float", kFloat),
                     Attr("value_floats", kFloats), Attr("value_int", kInt),
                     Attr("value_ints", kInts)}));
}

}  // namespace qeff::ir::schemas
