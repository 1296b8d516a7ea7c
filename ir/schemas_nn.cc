// Neural-network ops: MatMul, Gemm, Softmax, reductions, ArgMax, TopK,
// CumSum, Trilu, LayerNormalization; and qeff's custom ops (CustomRMSNorm,
// CtxScatter/CtxGather and their continuous-batching forms).
#include <algorithm>

#include "base/status_macros.h"
#include "ir/schemas_internal.h"

namespace qeff::ir::schemas {

namespace {

// Dims that must agree: a static mismatch is an error naming `what`.
absl::StatusOr<Dim> Agree(const Dim& a, const Dim& b, absl::string_view what) {
  if (a.is_static() && b.is_static() && a.value() != b.value())
    return Error(what, " differ: ", a.value(), " vs ", b.value());
  if (a.is_unknown()) return b;
  if (b.is_static()) return b;
  return a;
}

absl::Status SameDType(const InferenceContext& ctx, int i, int j) {
  if (ctx.input_type(i).dtype != ctx.input_type(j).dtype)
    return Error("input ", j, " ", ctx.input_type(j).ToString(),
                 " differs in dtype from input ", i, " ",
                 ctx.input_type(i).ToString());
  return absl::OkStatus();
}

absl::Status MatMul(InferenceContext& ctx) {
  QEFF_RETURN_IF_ERROR(SameDType(ctx, 0, 1));
  const Shape& a = ctx.input_type(0).shape;
  const Shape& b = ctx.input_type(1).shape;
  DType t = ctx.input_type(0).dtype;
  if (!a.ranked() || !b.ranked()) {
    SetOutput(ctx, 0, t, Shape::Unranked());
    return absl::OkStatus();
  }
  if (a.rank() == 0 || b.rank() == 0)
    return Error("operands must not be scalars");
  std::vector<Dim> da = a.dims(), db = b.dims();
  bool a1 = da.size() == 1, b1 = db.size() == 1;
  if (a1) da.insert(da.begin(), Dim(1));
  if (b1) db.push_back(Dim(1));
  const Dim& ka = da.back();
  const Dim& kb = db[db.size() - 2];
  if (ka.is_static() && kb.is_static() && ka.value() != kb.value())
    return Error("inner dims differ: ", a.ToString(), " x ", b.ToString());
  Shape ba(std::vector<Dim>(da.begin(), da.end() - 2));
  Shape bb(std::vector<Dim>(db.begin(), db.end() - 2));
  QEFF_ASSIGN_OR_RETURN(Shape batch, BroadcastShapes(ba, bb));
  std::vector<Dim> out = batch.dims();
  if (!a1) out.push_back(da[da.size() - 2]);
  if (!b1) out.push_back(db.back());
  SetOutput(ctx, 0, t, Shape(out));
  return absl::OkStatus();
}

absl::Status Gemm(InferenceContext& ctx) {
  QEFF_RETURN_IF_ERROR(SameDType(ctx, 0, 1));
  QEFF_RETURN_IF_ERROR(CheckRank(ctx, 0, 2, "A"));
  QEFF_RETURN_IF_ERROR(CheckRank(ctx, 1, 2, "B"));
  const Shape& a = ctx.input_type(0).shape;
  const Shape& b = ctx.input_type(1).shape;
  DType t = ctx.input_type(0).dtype;
  Dim m = Dim::Unknown(), n = Dim::Unknown();
  bool ta = ctx.node().GetInt("transA", 0), tb = ctx.node().GetInt("transB", 0);
  if (a.ranked() && b.ranked()) {
    QEFF_RETURN_IF_ERROR(
        Agree(a[ta ? 0 : 1], b[tb ? 1 : 0], "inner dims").status());
  }
  if (a.ranked()) m = a[ta ? 1 : 0];
  if (b.ranked()) n = b[tb ? 0 : 1];
  Shape out({m, n});
  if (ctx.has_input(2)) {
    QEFF_RETURN_IF_ERROR(SameDType(ctx, 0, 2));
    auto bc = BroadcastShapes(out, ctx.input_type(2).shape);
    if (!bc.ok()) return Error("C: ", bc.status().message());
  }
  SetOutput(ctx, 0, t, std::move(out));
  return absl::OkStatus();
}

absl::Status Softmax(InferenceContext& ctx) {
  const Shape& s = ctx.input_type(0).shape;
  if (s.ranked()) {
    QEFF_RETURN_IF_ERROR(
        NormalizeAxis(ctx.node().GetInt("axis", -1), s.rank(), "axis")
            .status());
  }
  return SameAsInput0(ctx);
}

// Shape after reducing `axes` (all when empty).
absl::StatusOr<Shape> Reduced(const Shape& s, const std::vector<int64_t>& axes,
                              bool keepdims) {
  if (!s.ranked()) return Shape::Unranked();
  int r = s.rank();
  std::vector<bool> red(r, axes.empty());
  for (int64_t a : axes) {
    QEFF_ASSIGN_OR_RETURN(int ax, NormalizeAxis(a, r, "axes entry"));
    red[ax] = true;
  }
  std::vector<Dim> out;
  for (int i = 0; i < r; ++i) {
    if (!red[i])
      out.push_back(s[i]);
    else if (keepdims)
      out.push_back(Dim(1));
  }
  return Shape(out);
}

absl::Status ReduceAttrAxes(InferenceContext& ctx) {
  bool keep = ctx.node().GetInt("keepdims", 1) != 0;
  QEFF_ASSIGN_OR_RETURN(Shape s, Reduced(ctx.input_type(0).shape,
                                         ctx.node().GetInts("axes"), keep));
  SetOutput(ctx, 0, ctx.input_type(0).dtype, std::move(s));
  return absl::OkStatus();
}

absl::Status ReduceSum(InferenceContext& ctx) {
  bool keep = ctx.node().GetInt("keepdims", 1) != 0;
  bool noop = ctx.node().GetInt("noop_with_empty_axes", 0) != 0;
  const TensorType& x = ctx.input_type(0);
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    auto a = ctx.input_static_ints(1);
    if (!a) {
      SetOutput(ctx, 0, x.dtype,
                keep && x.shape.ranked() ? UnknownDims(x.shape.rank())
                                         : Shape::Unranked());
      return absl::OkStatus();
    }
    axes = *a;
  }
  if (axes.empty() && noop) return SameAsInput0(ctx);
  QEFF_ASSIGN_OR_RETURN(Shape s, Reduced(x.shape, axes, keep));
  SetOutput(ctx, 0, x.dtype, std::move(s));
  return absl::OkStatus();
}

absl::Status ArgMax(InferenceContext& ctx) {
  const Shape& s = ctx.input_type(0).shape;
  bool keep = ctx.node().GetInt("keepdims", 1) != 0;
  if (!s.ranked()) {
    SetOutput(ctx, 0, DType::kI64, Shape::Unranked());
    return absl::OkStatus();
  }
  QEFF_ASSIGN_OR_RETURN(Shape out,
                        Reduced(s, {ctx.node().GetInt("axis", 0)}, keep));
  SetOutput(ctx, 0, DType::kI64, std::move(out));
  return absl::OkStatus();
}

absl::Status TopK(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  if (ctx.input_type(1).dtype != DType::kI64)
    return Error("K must be i64, got ", ctx.input_type(1).ToString());
  if (!x.shape.ranked()) {
    SetOutput(ctx, 0, x.dtype, Shape::Unranked());
    SetOutput(ctx, 1, DType::kI64, Shape::Unranked());
    return absl::OkStatus();
  }
  QEFF_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node().GetInt("axis", -1),
                                                x.shape.rank(), "axis"));
  Dim k = Dim::Unknown();
  if (const std::vector<Dim>* kv = ctx.input_dims_value(1)) {
    if (kv->size() != 1) return Error("K must hold one value");
    k = (*kv)[0];
    const Dim& d = x.shape[axis];
    if (k.is_static() &&
        (k.value() < 0 || (d.is_static() && k.value() > d.value())))
      return Error("K = ", k.value(), " is out of range for axis of size ",
                   d.ToString());
  }
  Shape out = x.shape;
  out.mutable_dims()[axis] = k;
  SetOutput(ctx, 0, x.dtype, out);
  SetOutput(ctx, 1, DType::kI64, out);
  return absl::OkStatus();
}

absl::Status CumSum(InferenceContext& ctx) {
  if (!IsInteger(ctx.input_type(1).dtype))
    return Error("axis must be an integer tensor");
  const Shape& a = ctx.input_type(1).shape;
  if (a.ranked() && a.rank() > 1) return Error("axis must be a scalar");
  return SameAsInput0(ctx);
}

absl::Status Trilu(InferenceContext& ctx) {
  const Shape& s = ctx.input_type(0).shape;
  if (s.ranked() && s.rank() < 2) return Error("input must have rank >= 2");
  if (ctx.has_input(1) && ctx.input_type(1).dtype != DType::kI64)
    return Error("k must be i64");
  return SameAsInput0(ctx);
}

absl::Status LayerNorm(InferenceContext& ctx) {
  const TensorType& x = ctx.input_type(0);
  QEFF_RETURN_IF_ERROR(SameDType(ctx, 0, 1));
  if (ctx.has_input(2)) QEFF_RETURN_IF_ERROR(SameDType(ctx, 0, 2));
  ctx.outputs[0] = x;
  int64_t stash = ctx.node().GetInt("stash_type", 1);
  if (stash != 1)
    return Error("stash_type ", stash, " is not supported (1 = f32)");
  if (!x.shape.ranked()) {
    for (int i = 1; i < ctx.num_outputs(); ++i)
      SetOutput(ctx, i, DType::kF32, Shape::Unranked());
    return absl::OkStatus();
  }
  QEFF_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node().GetInt("axis", -1),
                                                x.shape.rank(), "axis"));
  std::vector<Dim> stat(x.shape.dims().begin(), x.shape.dims().begin() + axis);
  stat.resize(x.shape.rank(), Dim(1));
  for (int i = 1; i < ctx.num_outputs(); ++i)
    SetOutput(ctx, i, DType::kF32, Shape(stat));
  return absl::OkStatus();
}

absl::Status CustomRMSNorm(InferenceContext& ctx) {
  const Shape& x = ctx.input_type(0).shape;
  const Shape& w = ctx.input_type(1).shape;
  if (x.ranked() && w.ranked() && x.rank() > 0 && w.rank() > 0) {
    QEFF_RETURN_IF_ERROR(
        Agree(x.dims().back(), w.dims().back(), "x and weight last dims")
            .status());
  }
  return SameAsInput0(ctx);
}

// MoE(x[...,H], router_logits[...,E], gate[E,F,H], up[E,F,H], down[E,H,F])
// -> [..., H] (ir/custom_ops.h).
absl::Status MoE(InferenceContext& ctx) {
  const Shape& x = ctx.input_type(0).shape;
  const Shape& l = ctx.input_type(1).shape;
  const Shape& g = ctx.input_type(2).shape;
  const Shape& u = ctx.input_type(3).shape;
  const Shape& d = ctx.input_type(4).shape;
  if (g.ranked() && g.rank() != 3)
    return Error("gate must be [E, F, H], got ", g.ToString());
  if (d.ranked() && d.rank() != 3)
    return Error("down must be [E, H, F], got ", d.ToString());
  if (x.ranked() && x.rank() < 1) return Error("x must have rank >= 1");
  const int64_t act = ctx.node().GetInt("activation", 0);
  if (act < 0 || act > 2)
    return Error("activation ", act,
                 " is not one of 0 (SiLU), 1 (GELU), 2 (GELU tanh)");
  if (x.ranked() && g.ranked()) {
    QEFF_RETURN_IF_ERROR(
        Agree(x.dims().back(), g.dims()[2], "x and gate hidden dims").status());
  }
  if (l.ranked() && g.ranked() && l.rank() >= 1) {
    QEFF_RETURN_IF_ERROR(
        Agree(l.dims().back(), g.dims()[0], "router_logits and experts")
            .status());
  }
  if (g.ranked() && u.ranked() && u.rank() == 3) {
    for (int i = 0; i < 3; ++i)
      QEFF_RETURN_IF_ERROR(
          Agree(g.dims()[i], u.dims()[i], "gate and up dims").status());
  }
  if (g.ranked() && d.ranked()) {
    QEFF_RETURN_IF_ERROR(
        Agree(g.dims()[0], d.dims()[0], "gate and down experts").status());
    QEFF_RETURN_IF_ERROR(
        Agree(g.dims()[1], d.dims()[2], "gate and down ffn dims").status());
    QEFF_RETURN_IF_ERROR(
        Agree(g.dims()[2], d.dims()[1], "gate and down hidden dims").status());
  }
  return SameAsInput0(ctx);
}

// Rank-checked dims of input i: `rank` dims (unknown when unranked).
absl::StatusOr<std::vector<Dim>> Dims(const InferenceContext& ctx, int i,
                                      int rank, absl::string_view what) {
  QEFF_RETURN_IF_ERROR(CheckRank(ctx, i, rank, what));
  const Shape& s = ctx.input_type(i).shape;
  if (!s.ranked()) return std::vector<Dim>(rank, Dim::Unknown());
  return s.dims();
}

absl::Status CheckIndexType(const InferenceContext& ctx, int i,
                            absl::string_view what) {
  if (!IsInteger(ctx.input_type(i).dtype))
    return Error(what, " must be integers, got ", ctx.input_type(i).ToString());
  return absl::OkStatus();
}

// CtxScatter(cache[B,H,C,D], position_ids[B,S], updates[B,H,S,D]); the CB
// form has batch_index[B,1] after the cache and a cache of full_batch_size.
absl::Status CtxScatter(InferenceContext& ctx, bool cb) {
  int pos = cb ? 2 : 1, upd = cb ? 3 : 2;
  QEFF_ASSIGN_OR_RETURN(auto cache, Dims(ctx, 0, 4, "cache"));
  QEFF_ASSIGN_OR_RETURN(auto p, Dims(ctx, pos, 2, "position_ids"));
  QEFF_ASSIGN_OR_RETURN(auto u, Dims(ctx, upd, 4, "updates"));
  QEFF_RETURN_IF_ERROR(CheckIndexType(ctx, pos, "position_ids"));
  QEFF_RETURN_IF_ERROR(SameDType(ctx, 0, upd));
  if (cb) {
    QEFF_ASSIGN_OR_RETURN(auto bi, Dims(ctx, 1, 2, "batch_index"));
    QEFF_RETURN_IF_ERROR(CheckIndexType(ctx, 1, "batch_index"));
    QEFF_RETURN_IF_ERROR(Agree(bi[1], 1, "batch_index dim 1 and 1").status());
    QEFF_RETURN_IF_ERROR(
        Agree(bi[0], p[0], "batch_index and position_ids batch").status());
  } else {
    QEFF_RETURN_IF_ERROR(BroadcastDim(cache[0], p[0]).status());
  }
  QEFF_RETURN_IF_ERROR(
      Agree(p[0], u[0], "position_ids and updates batch").status());
  QEFF_RETURN_IF_ERROR(
      Agree(p[1], u[2], "position_ids and updates seq").status());
  QEFF_RETURN_IF_ERROR(
      Agree(cache[1], u[1], "cache and updates heads").status());
  QEFF_RETURN_IF_ERROR(
      Agree(cache[3], u[3], "cache and updates head_dim").status());
  return SameAsInput0(ctx);
}

// CtxGather(cache[B,H,C,D], ctx_indices[B,C']) -> [B,H,C',D]; the CB form
// has batch_index[B,1] after the cache and a cache of full_batch_size.
absl::Status CtxGather(InferenceContext& ctx, bool cb) {
  int idx = cb ? 2 : 1;
  QEFF_ASSIGN_OR_RETURN(auto cache, Dims(ctx, 0, 4, "cache"));
  QEFF_ASSIGN_OR_RETURN(auto ci, Dims(ctx, idx, 2, "ctx_indices"));
  QEFF_RETURN_IF_ERROR(CheckIndexType(ctx, idx, "ctx_indices"));
  Dim b;
  if (cb) {
    QEFF_ASSIGN_OR_RETURN(auto bi, Dims(ctx, 1, 2, "batch_index"));
    QEFF_RETURN_IF_ERROR(CheckIndexType(ctx, 1, "batch_index"));
    QEFF_RETURN_IF_ERROR(Agree(bi[1], 1, "batch_index dim 1 and 1").status());
    QEFF_ASSIGN_OR_RETURN(b, BroadcastDim(bi[0], ci[0]));
  } else {
    QEFF_ASSIGN_OR_RETURN(b, BroadcastDim(cache[0], ci[0]));
  }
  SetOutput(ctx, 0, ctx.input_type(0).dtype,
            Shape({b, cache[1], ci[1], cache[3]}));
  return absl::OkStatus();
}

OpSchema Make(std::string domain, std::string op, int min_in, int max_in,
              std::function<absl::Status(InferenceContext&)> f,
              std::vector<AttrSpec> attrs = {}, int min_out = 1,
              int max_out = 1) {
  OpSchema s;
  s.domain = std::move(domain);
  s.op_type = std::move(op);
  s.min_inputs = min_in;
  s.max_inputs = max_in;
  s.min_outputs = min_out;
  s.max_outputs = max_out;
  s.infer = std::move(f);
  s.attrs = std::move(attrs);
  return s;
}

}  // namespace

void RegisterNnOps(Registry* r) {
  r->push_back(Make("", "MatMul", 2, 2, MatMul));
  r->push_back(Make("", "Gemm", 2, 3, Gemm,
                    {Attr("alpha", kFloat), Attr("beta", kFloat),
                     Attr("transA", kInt), Attr("transB", kInt)}));
  r->push_back(Make("", "Softmax", 1, 1, Softmax, {Attr("axis", kInt)}));
  for (const char* op : {"ReduceMean", "ReduceMax"}) {
    r->push_back(Make("", op, 1, 1, ReduceAttrAxes,
                      {Attr("axes", kInts), Attr("keepdims", kInt)}));
  }
  r->push_back(
      Make("", "ReduceSum", 1, 2, ReduceSum,
           {Attr("keepdims", kInt), Attr("noop_with_empty_axes", kInt)}));
  r->push_back(Make("", "ArgMax", 1, 1, ArgMax,
                    {Attr("axis", kInt), Attr("keepdims", kInt),
                     Attr("select_last_index", kInt)}));
  r->push_back(Make(
      "", "TopK", 2, 2, TopK,
      {Attr("axis", kInt), Attr("largest", kInt), Attr("sorted", kInt)}, 2, 2));
  r->push_back(Make("", "CumSum", 2, 2, CumSum,
                    {Attr("exclusive", kInt), Attr("reverse", kInt)}));
  r->push_back(Make("", "Trilu", 1, 2, Trilu, {Attr("upper", kInt)}));
  r->push_back(Make(
      "", "LayerNormalization", 2, 3, LayerNorm,
      {Attr("axis", kInt), Attr("epsilon", kFloat), Attr("stash_type", kInt)},
      1, 3));
}

void RegisterCustomOps(Registry* r) {
  r->push_back(Make(std::string(kQtiDomain), "CustomRMSNorm", 2, 2,
                    CustomRMSNorm, {Attr("epsilon", kFloat)}));
  std::string q(kQaicDomain);
  r->push_back(Make(q, "CtxScatter", 3, 3,
                    [](InferenceContext& c) { return CtxScatter(c, false); }));
  r->push_back(Make(q, "CtxScatterCB", 4, 4,
                    [](InferenceContext& c) { return CtxScatter(c, true); }));
  r->push_back(Make(q, "CtxGather", 2, 2,
                    [](InferenceContext& c) { return CtxGather(c, false); }));
  r->push_back(Make(q, "CtxGatherCB", 3, 3,
                    [](InferenceContext& c) { return CtxGather(c, true); }));
  r->push_back(Make(
      q, "MoE", 5, 5, MoE,
      {Attr("top_k", kInt), Attr("scoring", kInt), Attr("norm_topk_prob", kInt),
       Attr("score_on_input", kInt), Attr("activation", kInt),
       // Set by the cpu driver's compiler only (expert stacks packed in its
       // panel layout); other evaluators refuse it.
       Attr("packed_experts", kInt)}));
}

}  // namespace qeff::ir::schemas
