// Pattern fusions of the cpu compiler (see compiler_internal.h). Each
// rewrite adds a "qeff.cpu" node computing the matched value from the
// pattern's roots and redirects the value's uses; the matched nodes die in
// dead-code removal unless something else still reads them.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "hw/cpu/compiler_internal.h"
#include "hw/cpu/linear_internal.h"
#include "ir/quant.h"

namespace qeff::hw::cpu {
namespace {

using ir::Graph;
using ir::Node;
using ir::ValueId;

// The live producer of v when it is `op` (ai.onnx), else nullptr.
const Node* Prod(const Graph& g, ValueId v, absl::string_view op) {
  if (v == ir::kNoValue) return nullptr;
  const Node* n = g.Producer(v);
  if (!n || n->dead || n->op_type != op || !n->domain.empty()) return nullptr;
  return n;
}

std::vector<int64_t> DimsOf(const Graph& g, ValueId v) {
  const ir::Shape& s = g.value(v).type.shape;
  return s.ranked() && s.is_static() ? s.StaticDims() : std::vector<int64_t>{};
}

// A constant f32 scalar (any shape with one element).
bool ScalarConst(const Graph& g, ValueId v, float* out) {
  const ir::Value& val = g.value(v);
  if (!val.is_constant() || val.constant->is_quantized() ||
      val.constant->dtype() != ir::DType::kF32 ||
      val.constant->num_elements() != 1)
    return false;
  *out = val.constant->data<float>()[0];
  return true;
}

// Adds `op` computing the value `old` and points every use of `old` at it.
ValueId Replace(Graph& g, ValueId old, const std::string& op,
                std::vector<ValueId> ins,
                std::map<std::string, ir::Attribute> attrs = {}) {
  ir::NodeId n = g.AddNode(op, std::move(ins), 1, std::move(attrs),
                           g.value(old).name + ".fused", kCpuDomain);
  ValueId out = g.node(n).outputs[0];
  g.value(out).type = g.value(old).type;
  g.value(out).name = g.value(old).name;
  g.ReplaceAllUsesWith(old, out);
  return out;
}

std::vector<ValueId> LiveOutputsOf(const Graph& g, absl::string_view op,
                                   absl::string_view domain = "") {
  std::vector<ValueId> r;
  for (ir::NodeId id : g.LiveNodes()) {
    const Node& n = g.node(id);
    if (n.op_type == op && n.domain == domain) r.push_back(n.outputs[0]);
  }
  return r;
}

// x of Unsqueeze(x,[2]) -> Expand([1,1,rep,1,1]) -> Reshape([B,H,C,D]),
// or v itself when it is not that pattern.
ValueId UnrepeatKv(const Graph& g, ValueId v) {
  const Node* rs = Prod(g, v, "Reshape");
  if (!rs) return v;
  const Node* ex = Prod(g, rs->inputs[0], "Expand");
  if (!ex) return v;
  const Node* un = Prod(g, ex->inputs[0], "Unsqueeze");
  if (!un) return v;
  auto x = DimsOf(g, un->inputs[0]), u = DimsOf(g, un->outputs[0]),
       e = DimsOf(g, ex->outputs[0]), r = DimsOf(g, v);
  if (x.size() != 4 || u.size() != 5 || e.size() != 5 || r.size() != 4)
    return v;
  if (u != std::vector<int64_t>{x[0], x[1], 1, x[2], x[3]}) return v;
  if (e != std::vector<int64_t>{x[0], x[1], e[2], x[2], x[3]}) return v;
  if (r != std::vector<int64_t>{x[0], x[1] * e[2], x[2], x[3]}) return v;
  return un->inputs[0];
}

// Whether a constant index tensor selects slots 0..C-1 in every row.
bool IdentityIndices(const Graph& g, ValueId idx, int64_t c) {
  const ir::Value& v = g.value(idx);
  if (!v.is_constant()) return false;
  const auto d = v.constant->dims();
  if (d.empty() || d.back() != c) return false;
  std::vector<int64_t> ints = v.constant->ToInts();
  for (size_t i = 0; i < ints.size(); ++i)
    if (ints[i] != static_cast<int64_t>(i % c)) return false;
  return true;
}

// Resolves a [B,Hkv,C,D] key/value source to the cache it gathers from:
// {cache, batch_index or kNoValue}.
std::pair<ValueId, ValueId> CacheSource(const Graph& g, ValueId kv) {
  const Node* n = g.Producer(kv);
  if (n && !n->dead && n->domain == ir::kQaicDomain) {
    const int64_t c =
        DimsOf(g, n->inputs[0]).size() == 4 ? DimsOf(g, n->inputs[0])[2] : -1;
    if (n->op_type == "CtxGather" && DimsOf(g, kv)[2] == c &&
        IdentityIndices(g, n->inputs[1], c))
      return {n->inputs[0], ir::kNoValue};
    if (n->op_type == "CtxGatherCB" && DimsOf(g, kv)[2] == c &&
        IdentityIndices(g, n->inputs[2], c))
      return {n->inputs[0], n->inputs[1]};
  }
  return {kv, ir::kNoValue};
}

bool FuseAttentionAt(Graph& g, ValueId ctx) {
  const Node* pv = Prod(g, ctx, "MatMul");
  if (!pv) return false;
  const Node* sm = Prod(g, pv->inputs[0], "Softmax");
  if (!sm) return false;
  const auto sd = DimsOf(g, sm->outputs[0]);
  if (sd.size() != 4) return false;
  int64_t ax = sm->GetInt("axis", -1);
  if (ax != -1 && ax != 3) return false;
  const Node* wh = Prod(g, sm->inputs[0], "Where");
  if (!wh) return false;
  float masked, scale;
  if (!ScalarConst(g, wh->inputs[1], &masked)) return false;
  // Optional logit soft-capping (DESIGN.md "Custom ops"): the scores reach
  // the Where as Mul(Tanh(Mul(scores, 1 / cap)), cap).
  float cap = 0, inv_cap = 0;
  ValueId scores = wh->inputs[2];
  if (const Node* outer = Prod(g, scores, "Mul")) {
    for (int o = 0; o < 2; ++o) {
      const Node* th = Prod(g, outer->inputs[o], "Tanh");
      float c;
      if (!th || !ScalarConst(g, outer->inputs[1 - o], &c) || !(c > 0))
        continue;
      const Node* in = Prod(g, th->inputs[0], "Mul");
      if (!in) continue;
      for (int i = 0; i < 2; ++i) {
        float ic;
        if (ScalarConst(g, in->inputs[1 - i], &ic) && ic > 0 &&
            Prod(g, in->inputs[i], "Mul")) {
          cap = c;
          inv_cap = ic;
          scores = in->inputs[i];
          break;
        }
      }
      if (cap > 0) break;
    }
  }
  const Node* mul = Prod(g, scores, "Mul");
  if (!mul) return false;
  ValueId qk_v = mul->inputs[0];
  if (!ScalarConst(g, mul->inputs[1], &scale)) {
    if (!ScalarConst(g, mul->inputs[0], &scale)) return false;
    qk_v = mul->inputs[1];
  }
  const Node* qk = Prod(g, qk_v, "MatMul");
  if (!qk) return false;
  const Node* kt = Prod(g, qk->inputs[1], "Transpose");
  if (!kt || kt->GetInts("perm") != std::vector<int64_t>{0, 1, 3, 2})
    return false;
  ValueId q = qk->inputs[0];
  auto [kcache, kbi] = CacheSource(g, UnrepeatKv(g, kt->inputs[0]));
  auto [vcache, vbi] = CacheSource(g, UnrepeatKv(g, pv->inputs[1]));
  if (kbi != vbi) return false;
  const auto qd = DimsOf(g, q), kd = DimsOf(g, kcache), vd = DimsOf(g, vcache),
             md = DimsOf(g, wh->inputs[0]), od = DimsOf(g, ctx);
  if (qd.size() != 4 || kd.size() != 4 || vd != kd || od != qd ||
      md.size() != 4)
    return false;
  const int64_t B = qd[0], H = qd[1], S = qd[2], D = qd[3], C = kd[2];
  if (kd[3] != D || H % kd[1] != 0) return false;
  if (kbi == ir::kNoValue && kd[0] != B) return false;
  if ((md[0] != 1 && md[0] != B) || (md[1] != 1 && md[1] != H) || md[2] != S ||
      md[3] != C)
    return false;
  if (g.value(wh->inputs[0]).type.dtype != ir::DType::kBool ||
      g.value(q).type.dtype != ir::DType::kF32 ||
      g.value(kcache).type.dtype != ir::DType::kF32)
    return false;
  std::vector<ValueId> ins = {q, kcache, vcache, wh->inputs[0]};
  if (kbi != ir::kNoValue) ins.push_back(kbi);
  std::map<std::string, ir::Attribute> attrs = {
      {"scale", ir::Attribute::Float(scale)},
      {"masked", ir::Attribute::Float(masked)}};
  if (cap > 0) {
    attrs["softcap"] = ir::Attribute::Float(cap);
    attrs["softcap_inv"] = ir::Attribute::Float(inv_cap);
  }
  Replace(g, ctx, "Attention", ins, std::move(attrs));
  return true;
}

// Mul(w, Mul(x, Reciprocal(Sqrt(Add(ReduceMean(Pow(x, 2)), eps))))).
bool FuseRmsNormAt(Graph& g, ValueId y) {
  const Node* m = Prod(g, y, "Mul");
  if (!m) return false;
  for (int wi = 0; wi < 2; ++wi) {
    ValueId w = m->inputs[wi], normed = m->inputs[1 - wi];
    if (!g.value(w).is_constant() || g.value(w).constant->is_quantized() ||
        g.value(w).constant->dtype() != ir::DType::kF32 ||
        DimsOf(g, w).size() != 1)
      continue;
    const Node* nm = Prod(g, normed, "Mul");
    if (!nm) continue;
    for (int xi = 0; xi < 2; ++xi) {
      ValueId x = nm->inputs[xi];
      const Node* rc = Prod(g, nm->inputs[1 - xi], "Reciprocal");
      if (!rc) continue;
      const Node* sq = Prod(g, rc->inputs[0], "Sqrt");
      if (!sq) continue;
      const Node* add = Prod(g, sq->inputs[0], "Add");
      if (!add) continue;
      float eps;
      ValueId var = add->inputs[0];
      if (!ScalarConst(g, add->inputs[1], &eps)) {
        if (!ScalarConst(g, add->inputs[0], &eps)) continue;
        var = add->inputs[1];
      }
      const Node* rm = Prod(g, var, "ReduceMean");
      if (!rm || rm->GetInt("keepdims", 1) != 1) continue;
      const auto xd = DimsOf(g, x);
      std::vector<int64_t> axes = rm->GetInts("axes");
      if (rm->has_input(1) && g.value(rm->inputs[1]).is_constant())
        axes = g.value(rm->inputs[1]).constant->ToInts();
      if (axes.size() != 1 ||
          (axes[0] != -1 && axes[0] != static_cast<int64_t>(xd.size()) - 1))
        continue;
      const Node* pw = Prod(g, rm->inputs[0], "Pow");
      float two;
      if (!pw || pw->inputs[0] != x || !ScalarConst(g, pw->inputs[1], &two) ||
          two != 2.0f)
        continue;
      if (xd.empty() || DimsOf(g, w)[0] != xd.back() || DimsOf(g, y) != xd ||
          g.value(x).type.dtype != ir::DType::kF32)
        continue;
      Replace(g, y, "RMSNorm", {x, w},
              {{"epsilon", ir::Attribute::Float(eps)}});
      return true;
    }
  }
  return false;
}

// Add(Mul(x, cos), Mul(Concat(Neg(Slice(x, h:2h)), Slice(x, 0:h)), sin)).
bool FuseRopeAt(Graph& g, ValueId y) {
  const Node* add = Prod(g, y, "Add");
  if (!add) return false;
  for (int o = 0; o < 2; ++o) {
    const Node* mc = Prod(g, add->inputs[o], "Mul");
    const Node* ms = Prod(g, add->inputs[1 - o], "Mul");
    if (!mc || !ms) continue;
    for (int a = 0; a < 2; ++a) {
      const Node* cat = Prod(g, ms->inputs[a], "Concat");
      if (!cat || cat->inputs.size() != 2) continue;
      ValueId sin = ms->inputs[1 - a];
      const Node* neg = Prod(g, cat->inputs[0], "Neg");
      if (!neg) continue;
      const Node* s2 = Prod(g, neg->inputs[0], "Slice");
      const Node* s1 = Prod(g, cat->inputs[1], "Slice");
      if (!s1 || !s2 || s1->inputs[0] != s2->inputs[0]) continue;
      ValueId x = s1->inputs[0];
      ValueId cos;
      if (mc->inputs[0] == x)
        cos = mc->inputs[1];
      else if (mc->inputs[1] == x)
        cos = mc->inputs[0];
      else
        continue;
      const auto xd = DimsOf(g, x);
      if (xd.size() != 4 || xd[3] % 2 || DimsOf(g, y) != xd) continue;
      const int64_t half = xd[3] / 2;
      auto slice_ok = [&](const Node* s, int64_t start) {
        if (DimsOf(g, s->outputs[0]) !=
            std::vector<int64_t>{xd[0], xd[1], xd[2], half})
          return false;
        if (!s->has_input(1) || !g.value(s->inputs[1]).is_constant())
          return false;
        auto st = g.value(s->inputs[1]).constant->ToInts();
        if (s->has_input(4) && (!g.value(s->inputs[4]).is_constant() ||
                                g.value(s->inputs[4]).constant->ToInts() !=
                                    std::vector<int64_t>{1}))
          return false;
        if (!s->has_input(3) || !g.value(s->inputs[3]).is_constant())
          return false;
        auto ax = g.value(s->inputs[3]).constant->ToInts();
        return st.size() == 1 &&
               (st[0] == start || st[0] == start - 2 * half) &&
               ax.size() == 1 && (ax[0] == -1 || ax[0] == 3);
      };
      if (!slice_ok(s1, 0) || !slice_ok(s2, half)) continue;
      const auto cd = DimsOf(g, cos), sd = DimsOf(g, sin);
      if (cd.size() != 4 || sd != cd || cd[2] != xd[2] || cd[3] != xd[3] ||
          (cd[0] != 1 && cd[0] != xd[0]) || (cd[1] != 1 && cd[1] != xd[1]))
        continue;
      Replace(g, y, "Rope", {x, cos, sin});
      return true;
    }
  }
  return false;
}

// Mul(Mul(g, Sigmoid(g)), up) with equal shapes.
bool FuseSiluMulAt(Graph& g, ValueId y) {
  const Node* m = Prod(g, y, "Mul");
  if (!m) return false;
  for (int a = 0; a < 2; ++a) {
    const Node* act = Prod(g, m->inputs[a], "Mul");
    if (!act) continue;
    ValueId up = m->inputs[1 - a];
    for (int b = 0; b < 2; ++b) {
      const Node* sg = Prod(g, act->inputs[b], "Sigmoid");
      ValueId gate = act->inputs[1 - b];
      if (!sg || sg->inputs[0] != gate) continue;
      const auto gd = DimsOf(g, gate);
      if (gd.empty() || DimsOf(g, up) != gd || DimsOf(g, y) != gd ||
          g.value(gate).type.dtype != ir::DType::kF32)
        continue;
      Replace(g, y, "SiluMul", {gate, up});
      return true;
    }
  }
  return false;
}

// v = Mul(x, scalar) or Mul(scalar, x): {x, scalar}.
bool MulScalar(const Graph& g, ValueId v, ValueId* x, float* k,
               const char* op = "Mul") {
  const Node* m = Prod(g, v, op);
  if (!m || m->inputs.size() != 2) return false;
  for (int i = 0; i < 2; ++i) {
    if (ScalarConst(g, m->inputs[1 - i], k)) {
      *x = m->inputs[i];
      return true;
    }
  }
  return false;
}

bool LastAxisMean(const Graph& g, const Node* rm, ValueId x) {
  if (!rm || rm->inputs[0] != x || rm->GetInt("keepdims", 1) != 1) return false;
  std::vector<int64_t> axes = rm->GetInts("axes");
  if (rm->has_input(1)) {
    if (!g.value(rm->inputs[1]).is_constant()) return false;
    axes = g.value(rm->inputs[1]).constant->ToInts();
  }
  const int64_t r = static_cast<int64_t>(DimsOf(g, x).size());
  return axes.size() == 1 && (axes[0] == -1 || axes[0] == r - 1);
}

bool F32Vector(const Graph& g, ValueId v, int64_t n) {
  const ir::Value& val = g.value(v);
  return val.is_constant() && !val.constant->is_quantized() &&
         val.constant->dtype() == ir::DType::kF32 && DimsOf(g, v).size() == 1 &&
         DimsOf(g, v)[0] == n;
}

// Add(Mul(Div(c, Sqrt(Add(ReduceMean(Mul(c, c)), eps))), w), b) with
// c = Sub(x, ReduceMean(x)), means over the last axis (HF LayerNorm).
bool FuseLayerNormAt(Graph& g, ValueId y) {
  const Node* add = Prod(g, y, "Add");
  if (!add) return false;
  for (int bi = 0; bi < 2; ++bi) {
    const Node* sc = Prod(g, add->inputs[1 - bi], "Mul");
    ValueId bias = add->inputs[bi];
    if (!sc) continue;
    for (int wi = 0; wi < 2; ++wi) {
      ValueId w = sc->inputs[wi];
      const Node* dv = Prod(g, sc->inputs[1 - wi], "Div");
      if (!dv) continue;
      ValueId c = dv->inputs[0];
      const Node* sub = Prod(g, c, "Sub");
      const Node* sq = Prod(g, dv->inputs[1], "Sqrt");
      if (!sub || !sq) continue;
      ValueId x = sub->inputs[0];
      if (!LastAxisMean(g, Prod(g, sub->inputs[1], "ReduceMean"), x)) continue;
      const Node* ae = Prod(g, sq->inputs[0], "Add");
      if (!ae) continue;
      float eps;
      ValueId var = ae->inputs[0];
      if (!ScalarConst(g, ae->inputs[1], &eps)) {
        if (!ScalarConst(g, ae->inputs[0], &eps)) continue;
        var = ae->inputs[1];
      }
      const Node* vm = Prod(g, var, "ReduceMean");
      if (!vm) continue;
      const Node* csq = Prod(g, vm->inputs[0], "Mul");
      if (!csq || csq->inputs[0] != c || csq->inputs[1] != c ||
          !LastAxisMean(g, vm, csq->outputs[0]))
        continue;
      const auto xd = DimsOf(g, x);
      if (xd.empty() || DimsOf(g, y) != xd ||
          g.value(x).type.dtype != ir::DType::kF32 ||
          !F32Vector(g, w, xd.back()) || !F32Vector(g, bias, xd.back()))
        continue;
      Replace(g, y, "LayerNorm", {x, w, bias},
              {{"epsilon", ir::Attribute::Float(eps)},
               {"mode", ir::Attribute::Int(0)}});
      return true;
    }
  }
  return false;
}

// Mul(Mul(x, half), Add(Tanh(Mul(Add(x, Mul(Pow(x, p), coef)), factor)),
// one)) (gelu_new) or the same with Erf(Mul(x, factor)) (gelu).
bool FuseGeluAt(Graph& g, ValueId y) {
  const Node* m = Prod(g, y, "Mul");
  if (!m) return false;
  for (int a = 0; a < 2; ++a) {
    ValueId x, act_in;
    float half, one;
    if (!MulScalar(g, m->inputs[a], &x, &half)) continue;
    if (!MulScalar(g, m->inputs[1 - a], &act_in, &one, "Add")) continue;
    const auto xd = DimsOf(g, x);
    if (xd.empty() || DimsOf(g, y) != xd ||
        g.value(x).type.dtype != ir::DType::kF32)
      continue;
    if (const Node* er = Prod(g, act_in, "Erf")) {
      ValueId xi;
      float factor;
      if (!MulScalar(g, er->inputs[0], &xi, &factor) || xi != x) continue;
      Replace(g, y, "Gelu", {x},
              {{"mode", ir::Attribute::Int(1)},
               {"params", ir::Attribute::Floats({half, one, factor})}});
      return true;
    }
    const Node* th = Prod(g, act_in, "Tanh");
    if (!th) continue;
    ValueId inner, cube;
    float factor, coef, power;
    if (!MulScalar(g, th->inputs[0], &inner, &factor)) continue;
    const Node* ad = Prod(g, inner, "Add");
    if (!ad) continue;
    const int xi = ad->inputs[0] == x ? 0 : (ad->inputs[1] == x ? 1 : -1);
    if (xi < 0 || !MulScalar(g, ad->inputs[1 - xi], &cube, &coef)) continue;
    const Node* pw = Prod(g, cube, "Pow");
    if (!pw || pw->inputs[0] != x || !ScalarConst(g, pw->inputs[1], &power))
      continue;
    Replace(
        g, y, "Gelu", {x},
        {{"mode", ir::Attribute::Int(0)},
         {"params", ir::Attribute::Floats({half, one, power, coef, factor})}});
    return true;
  }
  return false;
}

// Add(Linear(x, W [N, K]), b [N] const f32) -> Linear(x, W, b) when the
// Linear has no other reader.
bool FuseLinearBiasAt(Graph& g, ValueId y) {
  const Node* add = Prod(g, y, "Add");
  if (!add) return false;
  for (int i = 0; i < 2; ++i) {
    const Node* lin = g.Producer(add->inputs[i]);
    if (!lin || lin->dead || lin->domain != kCpuDomain ||
        lin->op_type != "Linear" || lin->inputs.size() != 2)
      continue;
    const ir::Value& lv = g.value(add->inputs[i]);
    if (lv.uses.size() != 1 || lv.is_graph_output) continue;
    const auto ld = DimsOf(g, add->inputs[i]);
    ValueId b = add->inputs[1 - i];
    if (ld.empty() || DimsOf(g, y) != ld || !F32Vector(g, b, ld.back()))
      continue;
    Replace(g, y, "Linear", {lin->inputs[0], lin->inputs[1], b});
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<int> FuseLinear(Graph& g, ir::QuantFormat format,
                               ir::DType dtype, PackedWeights* packed) {
  int count = 0;
  // MoE expert stacks: read as stored behind a Cast from f16/bf16 (not
  // converted to f32 by constant folding), and stacks whose matrices have a
  // multiple of 16 rows packed expert by expert — f32/f16/bf16 in
  // PackPanels' layout, Q8_0/Q4_0/Q4_K in PackQuantPanels' (the same bytes
  // per expert; the node's packed_experts = 1 tells the kernel), so that a
  // decode step streams the selected experts as the packed Linear kernels
  // read dense weights. All three stacks or none.
  for (ir::NodeId id : g.LiveNodes()) {
    if (g.node(id).domain != ir::kQaicDomain || g.node(id).op_type != "MoE")
      continue;
    std::vector<ir::Tensor> stacks;
    for (int i = 2; i < 5 && i < static_cast<int>(g.node(id).inputs.size());
         ++i) {
      ValueId in = g.node(id).inputs[i];
      if (const Node* c = Prod(g, in, "Cast")) {
        const ir::Value& src = g.value(c->inputs[0]);
        if (src.is_constant() && !src.constant->is_quantized() &&
            (src.constant->dtype() == ir::DType::kF16 ||
             src.constant->dtype() == ir::DType::kBF16)) {
          in = c->inputs[0];
          g.SetNodeInput(id, i, in);
        }
      }
      const ir::Value& v = g.value(in);
      if (!v.is_constant() || v.constant->rank() != 3 ||
          v.constant->dims()[1] % 16 != 0)
        continue;
      const ir::Tensor& c = *v.constant;
      // (Packing must keep each expert's byte count: bf16 pairs need an
      // even K.)
      if (c.is_quantized()
              ? linear::QPackApplies(c.quant(), c.dims()[2])
              : (c.dtype() == ir::DType::kF32 || c.dtype() == ir::DType::kF16 ||
                 c.dtype() == ir::DType::kBF16) &&
                    linear::PackedK(c.dtype(), c.dims()[2]) == c.dims()[2])
        stacks.push_back(c);
    }
    if (stacks.size() != 3) continue;
    for (int i = 0; i < 3; ++i) {
      const ir::Tensor& st = stacks[i];
      // One packed copy per stack for every specialization of the program
      // (keyed by the stored bytes' address; dense weights are keyed by
      // their Buffer objects).
      const void* key = st.raw();
      auto it = packed->find(key);
      if (it == packed->end()) {
        const int64_t E = st.dims()[0], R = st.dims()[1], C = st.dims()[2];
        const size_t bytes = static_cast<size_t>(st.byte_size() / E);
        auto make = [&](std::vector<int64_t> dims,
                        std::shared_ptr<ir::Buffer> b) {
          return st.is_quantized()
                     ? *ir::Tensor::FromQuantized(st.quant(), st.dtype(),
                                                  std::move(dims), std::move(b))
                     : *ir::Tensor::FromBuffer(st.dtype(), std::move(dims),
                                               std::move(b));
        };
        ir::Tensor out = make(st.dims(), ir::Buffer::Allocate(st.byte_size()));
        for (int64_t e = 0; e < E; ++e) {
          const ir::Tensor m =
              make({R, C}, ir::Buffer::Copy(st.raw() + e * bytes, bytes));
          const ir::Tensor p = st.is_quantized() ? linear::PackQuantPanels(m)
                                                 : linear::PackPanels(m);
          QEFF_CHECK(static_cast<size_t>(p.byte_size()) == bytes);
          std::memcpy(out.mutable_raw() + e * bytes, p.raw(), bytes);
        }
        // Stored pages of a mapped stack are not read again.
        st.buffer()->ReleasePages();
        it = packed->emplace(key, std::move(out)).first;
      }
      const ValueId in = g.node(id).inputs[2 + i];
      g.SetNodeInput(
          id, 2 + i,
          g.AddConstant(g.value(in).name + ".packed_experts", it->second));
    }
    g.node(id).attrs["packed_experts"] = ir::Attribute::Int(1);
    ++count;
  }
  for (ValueId y : LiveOutputsOf(g, "MatMul")) {
    const Node* mm = g.Producer(y);
    ValueId x = mm->inputs[0], b = mm->inputs[1];
    const auto xd = DimsOf(g, x);
    if (xd.empty() || g.value(x).type.dtype != ir::DType::kF32) continue;
    ir::Tensor w;
    const void* key = nullptr;
    if (const Node* t = Prod(g, b, "Transpose")) {
      auto perm = t->GetInts("perm");
      if (perm != std::vector<int64_t>{1, 0} && !perm.empty()) continue;
      ValueId src = t->inputs[0];
      if (const Node* c = Prod(g, src, "Cast")) {
        if (g.value(src).type.dtype != ir::DType::kF32) continue;
        src = c->inputs[0];
      }
      const ir::Value& wv = g.value(src);
      if (!wv.is_constant() || wv.constant->rank() != 2) continue;
      w = *wv.constant;
      key = w.buffer().get();
    } else if (g.value(b).is_constant() && g.value(b).constant->rank() == 2 &&
               !g.value(b).constant->is_quantized() &&
               g.value(b).constant->dtype() == ir::DType::kF32) {
      // [K, N] -> packed [N, K] (a compile-time copy).
      const ir::Tensor& kn = *g.value(b).constant;
      key = kn.buffer().get();
      const int64_t K = kn.dims()[0], N = kn.dims()[1];
      w = ir::Tensor::Zeros(ir::DType::kF32, {N, K});
      for (int64_t i = 0; i < K; ++i)
        for (int64_t j = 0; j < N; ++j)
          w.mutable_data<float>()[j * K + i] = kn.data<float>()[i * N + j];
    } else {
      continue;
    }
    if (w.dims()[1] != xd.back()) continue;
    const std::shared_ptr<ir::Buffer> origin = w.buffer();
    if (auto it = packed->find(key); it != packed->end()) {
      ValueId wc =
          g.AddConstant(g.value(y).name + ".packed_weight", it->second);
      Replace(g, y, "Linear", {x, wc});
      ++count;
      continue;
    }
    if (!w.is_quantized() && w.dtype() != ir::DType::kF32 &&
        w.dtype() != ir::DType::kF16 && w.dtype() != ir::DType::kBF16)
      continue;
    // MXFP6 blocks run along K in 32s: a weight whose K is not a multiple
    // of 32 stays in its own precision (as the AIC compiler compresses only
    // the eligible MatMul weights).
    if (format != ir::QuantFormat::kNone && !w.is_quantized() &&
        w.dims()[1] % 32 == 0) {
      auto q = ir::Quantize(w, format);
      if (!q.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cpu compiler: weight format ", ir::QuantFormatName(format),
            ": weight of ", mm->Describe(), " ", w.TypeString(), ": ",
            q.status().message()));
      }
      w = *std::move(q);
    }
    if (format == ir::QuantFormat::kNone && dtype != ir::DType::kF32 &&
        !w.is_quantized() && w.dtype() == ir::DType::kF32) {
      // f32 -> f16 / bf16 (round to nearest even).
      ir::Tensor h = ir::Tensor::Zeros(dtype, w.dims());
      const float* src = w.data<float>();
      uint16_t* dst = h.mutable_data<uint16_t>();
      for (int64_t i = 0; i < w.num_elements(); ++i)
        dst[i] = dtype == ir::DType::kF16 ? ir::FloatToHalf(src[i])
                                          : ir::FloatToBFloat16(src[i]);
      w = std::move(h);
    }
    if (!w.is_quantized()) {
      // f32 / f16 / bf16: panels the Linear kernel reads 16 features of one
      // k at a time from (linear_internal.h).
      w = linear::PackPanels(w);
    } else if (linear::QPackApplies(w.quant(), w.dims()[1])) {
      // Q8_0 / Q4_0 / Q4_K: 16-feature panels in the VNNI kernel's layout,
      // the same bytes per weight.
      w = linear::PackQuantPanels(w);
    }
    // The program holds a copy (quantized, converted or packed): the
    // checkpoint's pages the copy read are released.
    if (origin && w.buffer() != origin) origin->ReleasePages();
    (*packed)[key] = w;
    ValueId wc = g.AddConstant(g.value(y).name + ".packed_weight", w);
    Replace(g, y, "Linear", {x, wc});
    ++count;
  }
  // Gather(Cast(table f16/bf16 const), ids) -> Cast(Gather(table, ids)): the
  // same values, without converting the whole table at compile time.
  for (ValueId y : LiveOutputsOf(g, "Gather")) {
    const Node* ga = g.Producer(y);
    const Node* c = Prod(g, ga->inputs[0], "Cast");
    if (!c || g.value(c->outputs[0]).type.dtype != ir::DType::kF32) continue;
    const ir::Value& tv = g.value(c->inputs[0]);
    if (!tv.is_constant() || tv.constant->is_quantized() ||
        (tv.constant->dtype() != ir::DType::kF16 &&
         tv.constant->dtype() != ir::DType::kBF16))
      continue;
    const ir::DType half = tv.constant->dtype();
    std::map<std::string, ir::Attribute> attrs = ga->attrs;
    const ir::TensorType ot = g.value(y).type;
    ir::NodeId gn = g.AddNode("Gather", {c->inputs[0], ga->inputs[1]}, 1,
                              std::move(attrs), g.value(y).name + ".rows");
    ValueId rows = g.node(gn).outputs[0];
    g.value(rows).type = ir::TensorType{half, ot.shape};
    ir::NodeId cn = g.AddNode("Cast", {rows}, 1, c->attrs, g.value(y).name);
    ValueId out = g.node(cn).outputs[0];
    g.value(out).type = ot;
    g.ReplaceAllUsesWith(y, out);
  }
  // The weights' Transpose/Cast nodes now have no readers: remove them
  // before folding, which would otherwise transpose/convert every weight.
  g.RemoveDeadCode();
  return count;
}

absl::StatusOr<int> FuseBlocks(Graph& g) {
  int count = 0;
  for (ValueId v : LiveOutputsOf(g, "MatMul")) count += FuseAttentionAt(g, v);
  for (ValueId v : LiveOutputsOf(g, "Mul")) count += FuseRmsNormAt(g, v);
  for (ValueId v : LiveOutputsOf(g, "Add")) count += FuseRopeAt(g, v);
  for (ValueId v : LiveOutputsOf(g, "Add")) {
    if (g.Producer(v)->dead) continue;
    count += FuseLayerNormAt(g, v);
  }
  for (ValueId v : LiveOutputsOf(g, "Mul")) {
    if (g.Producer(v)->dead) continue;
    count += FuseGeluAt(g, v);
  }
  for (ValueId v : LiveOutputsOf(g, "Add")) {
    if (g.Producer(v)->dead) continue;
    count += FuseLinearBiasAt(g, v);
  }
  for (ValueId v : LiveOutputsOf(g, "Mul")) {
    if (g.Producer(v)->dead) continue;
    count += FuseSiluMulAt(g, v);
  }
  g.RemoveDeadCode();
  return count;
}

}  // namespace qeff::hw::cpu
