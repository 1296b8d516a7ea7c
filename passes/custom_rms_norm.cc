#include "passes/custom_rms_norm.h"

#include <optional>

#include "ir/builder.h"

namespace qeff::passes {
namespace {

using ir::Graph;
using ir::Node;
using ir::ValueId;

const Node* Produced(const Graph& g, ValueId v, absl::string_view op) {
  if (v == ir::kNoValue) return nullptr;
  const Node* n = g.Producer(v);
  if (!n || n->dead || n->op_type != op || !n->domain.empty()) return nullptr;
  return n;
}

// The scalar value of a constant, if it is one.
std::optional<double> ScalarConstant(const Graph& g, ValueId v) {
  const ir::Value& val = g.value(v);
  if (!val.is_constant() || val.constant->num_elements() != 1 ||
      val.constant->is_quantized() || !ir::IsFloat(val.constant->dtype()))
    return std::nullopt;
  return val.constant->GetDouble(0);
}

// x and eps when `r` is 1/sqrt(mean(x^2, -1) + eps) (as Reciprocal(Sqrt())).
bool MatchInvStd(const Graph& g, ValueId sqrt_out, ValueId* x, float* eps) {
  const Node* sq = Produced(g, sqrt_out, "Sqrt");
  if (!sq) return false;
  const Node* add = Produced(g, sq->inputs[0], "Add");
  if (!add) return false;
  for (int i = 0; i < 2; ++i) {
    const Node* mean = Produced(g, add->inputs[i], "ReduceMean");
    auto e = ScalarConstant(g, add->inputs[1 - i]);
    if (!mean || !e) continue;
    if (mean->GetInt("keepdims", 1) != 1 || mean->inputs.size() != 1) continue;
    std::vector<int64_t> axes = mean->GetInts("axes");
    const auto& in_shape = g.value(mean->inputs[0]).type.shape;
    bool last_axis = axes.size() == 1 &&
                     (axes[0] == -1 ||
                      (in_shape.ranked() && axes[0] == in_shape.rank() - 1));
    if (!last_axis) continue;
    const Node* pow = Produced(g, mean->inputs[0], "Pow");
    if (!pow) continue;
    auto two = ScalarConstant(g, pow->inputs[1]);
    if (!two || *two != 2.0) continue;
    *x = pow->inputs[0];
    *eps = static_cast<float>(*e);
    return true;
  }
  return false;
}

// x and eps when `v` is x * (1/std) or x / std.
bool MatchNormalized(const Graph& g, ValueId v, ValueId* x, float* eps) {
  if (const Node* mul = Produced(g, v, "Mul")) {
    for (int i = 0; i < 2; ++i) {
      const Node* rec = Produced(g, mul->inputs[i], "Reciprocal");
      ValueId cand;
      if (rec && MatchInvStd(g, rec->inputs[0], &cand, eps) &&
          cand == mul->inputs[1 - i]) {
        *x = cand;
        return true;
      }
    }
  }
  if (const Node* div = Produced(g, v, "Div")) {
    ValueId cand;
    if (MatchInvStd(g, div->inputs[1], &cand, eps) && cand == div->inputs[0]) {
      *x = cand;
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> CustomRMSNormFusion::Run(Graph& g) {
  bool changed = false;
  ir::GraphBuilder b(&g);
  for (ir::NodeId id : g.LiveNodes()) {
    const Node& n = g.node(id);
    if (n.dead || n.op_type != "Mul" || !n.domain.empty()) continue;
    for (int i = 0; i < 2; ++i) {
      ValueId x;
      float eps;
      ValueId w = g.node(id).inputs[1 - i];
      if (!MatchNormalized(g, g.node(id).inputs[i], &x, &eps)) continue;
      const auto& wt = g.value(w).type.shape;
      const auto& xt = g.value(x).type.shape;
      // The weight must be a vector over the normalized (last) axis.
      if (!wt.ranked() || wt.rank() != 1 || !xt.ranked() || xt.rank() == 0 ||
          wt[0] != xt[xt.rank() - 1])
        continue;
      ValueId out = g.node(id).outputs[0];
      std::string name = g.value(out).name;
      ValueId fused = b.Op("CustomRMSNorm", {x, w},
                           {{"epsilon", ir::Attribute::Float(eps)}},
                           name + ".rms", std::string(ir::kQtiDomain));
      g.value(fused).type = g.value(out).type;
      g.ReplaceAllUsesWith(out, fused);
      // Keep the role name on the fused value.
      g.value(out).name = name + ".decomposed";
      g.value(fused).name = name;
      g.node(g.value(fused).producer).name = name;
      changed = true;
      break;
    }
  }
  if (changed) g.RemoveDeadCode();
  return changed;
}

}  // namespace qeff::passes
