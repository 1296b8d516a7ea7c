#include "ir/onnx_functions.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/graph.h"

namespace qeff::ir::onnx_internal {
namespace {

// Appends nodes to a function body with generated value names.
class Body {
 public:
  Body(onnx::FunctionProto* f) : f_(f) {}

  // One node; returns its (first) output's name.
  std::string Op(const std::string& op, std::vector<std::string> inputs,
                 std::vector<onnx::AttributeProto> attrs = {}) {
    onnx::NodeProto* n = f_->add_node();
    n->set_op_type(op);
    for (auto& in : inputs) n->add_input(in);
    std::string out = absl::StrCat("t", next_++, "_", op);
    n->add_output(out);
    for (auto& a : attrs) *n->add_attribute() = std::move(a);
    return out;
  }
  std::string Ints(std::vector<int64_t> v) {
    return Op("Constant", {}, {IntsAttr("value_ints", v)});
  }
  std::string Int(int64_t v) {
    onnx::AttributeProto a;
    a.set_name("value_int");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
    return Op("Constant", {}, {a});
  }
  // Adds a second output to the last node; returns its name.
  std::string SecondOutput() {
    onnx::NodeProto* n = f_->mutable_node(f_->node_size() - 1);
    std::string out = absl::StrCat(n->output(0), "_1");
    n->add_output(out);
    return out;
  }
  // A scalar Constant holding attribute `attr` (int) of the function.
  std::string AttrInt(const std::string& attr) {
    onnx::AttributeProto a;
    a.set_name("value_int");
    a.set_type(onnx::AttributeProto::INT);
    a.set_ref_attr_name(attr);
    return Op("Constant", {}, {a});
  }
  std::string Float(float v) {
    onnx::AttributeProto a;
    a.set_name("value_float");
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(v);
    return Op("Constant", {}, {a});
  }
  // Renames the last node's output (the function's output).
  void NameLastOutput(const std::string& name) {
    f_->mutable_node(f_->node_size() - 1)->set_output(0, name);
  }

  static onnx::AttributeProto IntAttr(const std::string& name, int64_t v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
    return a;
  }
  static onnx::AttributeProto IntsAttr(const std::string& name,
                                       const std::vector<int64_t>& v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
    return a;
  }

 private:
  onnx::FunctionProto* f_;
  int next_ = 0;
};

onnx::FunctionProto NewFunction(absl::string_view domain,
                                absl::string_view name,
                                std::vector<std::string> inputs,
                                std::vector<std::string> attrs = {}) {
  onnx::FunctionProto f;
  f.set_domain(std::string(domain));
  f.set_name(std::string(name));
  for (auto& i : inputs) f.add_input(i);
  f.add_output("out");
  for (auto& a : attrs) f.add_attribute(a);
  auto* op = f.add_opset_import();
  op->set_domain("");
  op->set_version(17);
  return f;
}

constexpr int64_t kInt64 = 7;  // TensorProto.INT64

// Shared by CtxScatter and CtxScatterCB. `rows` (int64 [B,1,1,1]) are the
// cache rows written, or "" for rows 0..B-1.
//
// ScatterND applies duplicate indices in an unspecified order, so every
// index that occurs more than once must carry the same value:
// - real entries of a row with the same position carry the update of the
//   last of them (the specification's "later s wins");
// - a padding entry (position < 0) is redirected to its row's last real
//   position s*, carrying that entry's update (s* is the last entry with
//   its position, so this is the value the real write stores);
// - an all-padding (idle) row writes slot C-1 of its cache row with the
//   value already there.
void BuildScatter(Body& b, const std::string& data, const std::string& rows,
                  const std::string& position_ids, const std::string& updates) {
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  std::string pos0 =
      b.Op("Cast", {position_ids}, {Body::IntAttr("to", kInt64)});
  std::string zero = b.Int(0), one = b.Int(1), minus_one = b.Int(-1);
  std::string one_1d = b.Ints({1});
  std::string shape_u = b.Op("Shape", {updates});
  std::string B = b.Op("Gather", {shape_u, b.Ints({0})});  // [1]
  std::string H = b.Op("Gather", {shape_u, b.Ints({1})});
  std::string S = b.Op("Gather", {shape_u, b.Ints({2})});
  std::string C = b.Op("Gather", {b.Op("Shape", {data}), b.Ints({2})});
  // position_ids [1,S] broadcasts over the batch.
  std::string pos =
      b.Op("Expand",
           {pos0, b.Op("Concat", {B, one_1d}, {Body::IntAttr("axis", 0)})});
  std::string s_range =
      b.Op("Range", {zero, b.Op("Squeeze", {S, b.Ints({0})}), one});  // [S]

  // For each entry, the last entry of its row with the same position.
  std::string eq = b.Op("Equal", {b.Op("Unsqueeze", {pos, b.Ints({2})}),
                                  b.Op("Unsqueeze", {pos, b.Ints({1})})});
  std::string same_s = b.Op("Where", {eq, s_range, minus_one});  // [B,S,S]
  std::string last_same =
      b.Op("ReduceMax", {same_s},
           {Body::IntsAttr("axes", {2}), Body::IntAttr("keepdims", 0)});

  // Which entries are real, and each row's last real entry.
  std::string valid = b.Op("GreaterOrEqual", {pos, zero});  // [B,S]
  std::string s_or_neg = b.Op("Where", {valid, s_range, minus_one});
  std::string last_s = b.Op(
      "ReduceMax", {s_or_neg},
      {Body::IntsAttr("axes", {1}), Body::IntAttr("keepdims", 1)});  // [B,1]
  std::string any_valid = b.Op("GreaterOrEqual", {last_s, zero});    // [B,1]
  std::string last_s0 = b.Op("Max", {last_s, zero});
  std::string last_p = b.Op("GatherElements", {pos, last_s0},
                            {Body::IntAttr("axis", 1)});  // [B,1]
  std::string c_minus_1 = b.Op("Sub", {C, one_1d});
  // Padding → the row's last real position; idle row → slot C-1.
  std::string redirect = b.Op("Where", {any_valid, last_p, c_minus_1});
  std::string pos_eff = b.Op("Where", {valid, pos, redirect});     // [B,S]
  std::string src_s = b.Op("Where", {valid, last_same, last_s0});  // [B,S]

  // Each entry's update: updates[b,:,src_s[b,s],:] ...
  std::string upd_t =
      b.Op("Transpose", {updates}, {Body::IntsAttr("perm", {0, 2, 1, 3})});
  std::string src_idx = b.Op("Unsqueeze", {src_s, b.Ints({2})});  // [B,S,1]
  std::string upd_g = b.Op("GatherND", {upd_t, src_idx},
                           {Body::IntAttr("batch_dims", 1)});  // [B,S,H,D]
  std::string upd_sel =
      b.Op("Transpose", {upd_g}, {Body::IntsAttr("perm", {0, 2, 1, 3})});
  // ... or, in an idle row, the value already in slot C-1 of its cache row.
  std::string last_slot = b.Op(
      "Slice", {data, b.Ints({-1}), b.Ints({kMax}), b.Ints({2})});  // [N,H,1,D]
  if (!rows.empty()) {
    std::string rows_1d = b.Op("Reshape", {rows, b.Ints({-1})});
    last_slot =
        b.Op("Gather", {last_slot, rows_1d}, {Body::IntAttr("axis", 0)});
  }
  std::string any4 =
      b.Op("Unsqueeze", {any_valid, b.Ints({2, 3})});               // [B,1,1,1]
  std::string upd_eff = b.Op("Where", {any4, upd_sel, last_slot});  // [B,H,S,D]

  // indices[b,h,s] = (row(b), h, pos_eff[b,s]).
  std::string exp_shape =
      b.Op("Concat", {B, H, S, one_1d}, {Body::IntAttr("axis", 0)});
  std::string b_idx;
  if (rows.empty()) {
    std::string b_range =
        b.Op("Range", {zero, b.Op("Squeeze", {B, b.Ints({0})}), one});
    b_idx = b.Op("Unsqueeze", {b_range, b.Ints({1, 2, 3})});
  } else {
    b_idx = rows;
  }
  b_idx = b.Op("Expand", {b_idx, exp_shape});
  std::string h_range =
      b.Op("Range", {zero, b.Op("Squeeze", {H, b.Ints({0})}), one});
  std::string h_idx = b.Op(
      "Expand", {b.Op("Unsqueeze", {h_range, b.Ints({0, 2, 3})}), exp_shape});
  std::string c_idx =
      b.Op("Expand", {b.Op("Unsqueeze", {pos_eff, b.Ints({1, 3})}), exp_shape});
  std::string indices =
      b.Op("Concat", {b_idx, h_idx, c_idx}, {Body::IntAttr("axis", 3)});
  b.Op("ScatterND", {data, indices, upd_eff});
  b.NameLastOutput("out");
}

// Shared by CtxGather and CtxGatherCB. ctx_indices is [B, N], [1, N] or [N].
void BuildGather(Body& b, const std::string& data, const std::string& rows,
                 const std::string& ctx_indices) {
  std::string idx = b.Op("Cast", {ctx_indices}, {Body::IntAttr("to", kInt64)});
  std::string zero = b.Int(0), one = b.Int(1);
  std::string one_1d = b.Ints({1});
  std::string shape_d = b.Op("Shape", {data});
  std::string H = b.Op("Gather", {shape_d, b.Ints({1})});
  std::string B = rows.empty()
                      ? b.Op("Gather", {shape_d, b.Ints({0})})
                      : b.Op("Gather", {b.Op("Shape", {rows}), b.Ints({0})});
  // idx → [B|1, N] → [B|1, 1, N] → broadcast to [B, H, N].
  std::string n = b.Op("Gather", {b.Op("Shape", {idx}), b.Ints({-1})});
  std::string idx2 = b.Op("Reshape", {idx, b.Op("Concat", {b.Ints({-1}), n},
                                                {Body::IntAttr("axis", 0)})});
  std::string idx3 = b.Op("Unsqueeze", {idx2, b.Ints({1})});
  std::string bh1 = b.Op("Concat", {B, H, one_1d}, {Body::IntAttr("axis", 0)});
  std::string idx_e = b.Op("Expand", {idx3, bh1});
  std::string idx_u = b.Op("Unsqueeze", {idx_e, b.Ints({3})});  // [B,H,N,1]
  if (rows.empty()) {
    b.Op("GatherND", {data, idx_u}, {Body::IntAttr("batch_dims", 2)});
  } else {
    std::string bhn1 = b.Op("Shape", {idx_u});
    std::string b_idx = b.Op("Expand", {rows, bhn1});  // rows: [B,1,1,1]
    std::string h_range =
        b.Op("Range", {zero, b.Op("Squeeze", {H, b.Ints({0})}), one});
    std::string h_idx =
        b.Op("Expand", {b.Op("Unsqueeze", {h_range, b.Ints({0, 2, 3})}), bhn1});
    std::string indices =
        b.Op("Concat", {b_idx, h_idx, idx_u}, {Body::IntAttr("axis", 3)});
    b.Op("GatherND", {data, indices});
  }
  b.NameLastOutput("out");
}

// MoE (ir/custom_ops.h) in standard ops: TopK over the router logits,
// softmax/sigmoid scores, GatherElements + optional renormalisation, a dense
// [T, E] weight (ScatterElements; zero for unselected experts), every
// expert's FFN as a batched MatMul over E, and the weighted sum over E. The
// attribute switches are 0/1 blends (x * c + y * (1 - c)), exact for
// c in {0, 1}, since an ONNX function has no control flow here. The
// activation is u * m(u) with m blended the same way from SiLU's sigmoid(u),
// exact GELU's 0.5 (1 + erf(u / sqrt 2)) and the tanh GELU's
// 0.5 (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))) by activation == 0, 1, 2.
void BuildMoE(Body& b) {
  constexpr int64_t kFloat = 1;  // TensorProto.FLOAT
  std::string shape_x = b.Op("Shape", {"x"});
  std::string H = b.Op("Gather", {shape_x, b.Ints({-1})});  // [1]
  std::string E = b.Op("Gather", {b.Op("Shape", {"gate"}), b.Ints({0})});
  std::string minus1 = b.Ints({-1});
  std::string x2 = b.Op(
      "Reshape",
      {"x", b.Op("Concat", {minus1, H}, {Body::IntAttr("axis", 0)})});  // [T,H]
  std::string l2 = b.Op(
      "Reshape", {"router_logits",
                  b.Op("Concat", {minus1, E}, {Body::IntAttr("axis", 0)})});
  std::string k = b.Op("Reshape", {b.AttrInt("top_k"), b.Ints({1})});
  b.Op("TopK", {l2, k},
       {Body::IntAttr("axis", -1), Body::IntAttr("largest", 1),
        Body::IntAttr("sorted", 1)});
  std::string idx = b.SecondOutput();  // [T,k]
  std::string one = b.Float(1.0f);
  auto flag = [&](const char* attr) {
    return b.Op("Cast", {b.AttrInt(attr)}, {Body::IntAttr("to", kFloat)});
  };
  auto blend = [&](const std::string& a, const std::string& c,
                   const std::string& z) {  // a * c + z * (1 - c)
    return b.Op("Add",
                {b.Op("Mul", {a, c}), b.Op("Mul", {z, b.Op("Sub", {one, c})})});
  };
  std::string sig = flag("scoring"), nrm = flag("norm_topk_prob"),
              on_in = flag("score_on_input");
  std::string scores =
      blend(b.Op("Sigmoid", {l2}), sig,
            b.Op("Softmax", {l2}, {Body::IntAttr("axis", -1)}));
  std::string w =
      b.Op("GatherElements", {scores, idx}, {Body::IntAttr("axis", -1)});
  std::string sum =
      b.Op("ReduceSum", {w, b.Ints({-1})}, {Body::IntAttr("keepdims", 1)});
  w = b.Op("Div", {w, blend(sum, nrm, one)});
  std::string zeros = b.Op("ConstantOfShape", {b.Op("Shape", {scores})});
  std::string dense = b.Op("ScatterElements", {zeros, idx, w},
                           {Body::IntAttr("axis", -1)});  // [T,E]
  std::string dense_t =
      b.Op("Unsqueeze",
           {b.Op("Transpose", {dense}, {Body::IntsAttr("perm", {1, 0})}),
            b.Ints({2})});  // [E,T,1]
  std::string in_scale = blend(dense_t, on_in, one);
  std::string out_scale = blend(one, on_in, dense_t);
  std::string u =
      b.Op("Mul", {b.Op("Unsqueeze", {x2, b.Ints({0})}), in_scale});  // [E,T,H]
  auto tr = [&](const char* w3) {
    return b.Op("Transpose", {w3}, {Body::IntsAttr("perm", {0, 2, 1})});
  };
  std::string g = b.Op("MatMul", {u, tr("gate")});  // [E,T,F]
  std::string p = b.Op("MatMul", {u, tr("up")});
  std::string act_id = b.AttrInt("activation");
  auto is_act = [&](int64_t v) {
    return b.Op("Cast", {b.Op("Equal", {act_id, b.Int(v)})},
                {Body::IntAttr("to", kFloat)});
  };
  std::string half = b.Float(0.5f);
  std::string m_erf = b.Op(
      "Mul",
      {half, b.Op("Add",
                  {one, b.Op("Erf", {b.Op("Mul", {g, b.Float(static_cast<float>(
                                                         M_SQRT1_2))})})})});
  std::string cube = b.Op("Mul", {b.Op("Mul", {g, g}), g});
  std::string inner =
      b.Op("Mul", {b.Op("Add", {g, b.Op("Mul", {cube, b.Float(0.044715f)})}),
                   b.Float(static_cast<float>(std::sqrt(2.0 / M_PI)))});
  std::string m_tanh =
      b.Op("Mul", {half, b.Op("Add", {one, b.Op("Tanh", {inner})})});
  std::string m =
      b.Op("Add", {b.Op("Add", {b.Op("Mul", {b.Op("Sigmoid", {g}), is_act(0)}),
                                b.Op("Mul", {m_erf, is_act(1)})}),
                   b.Op("Mul", {m_tanh, is_act(2)})});
  std::string act = b.Op("Mul", {b.Op("Mul", {g, m}), p});
  std::string o = b.Op("MatMul", {act, tr("down")});  // [E,T,H]
  std::string y = b.Op("ReduceSum", {b.Op("Mul", {o, out_scale}), b.Ints({0})},
                       {Body::IntAttr("keepdims", 0)});
  b.Op("Reshape", {y, shape_x});
  b.NameLastOutput("out");
}

// batch_index [B,1] (any integer type) → int64 [B,1,1,1].
std::string Rows(Body& b, const std::string& batch_index) {
  std::string bi = b.Op("Cast", {batch_index}, {Body::IntAttr("to", kInt64)});
  std::string flat = b.Op("Reshape", {bi, b.Ints({-1})});
  return b.Op("Unsqueeze", {flat, b.Ints({1, 2, 3})});
}

}  // namespace

bool IsCustomOp(absl::string_view domain, absl::string_view op) {
  if (domain == kQaicDomain) {
    return op == "CtxScatter" || op == "CtxGather" || op == "CtxScatterCB" ||
           op == "CtxGatherCB" || op == "MoE";
  }
  if (domain == kQtiDomain) return op == "CustomRMSNorm";
  return false;
}

absl::StatusOr<onnx::FunctionProto> CustomOpFunction(absl::string_view domain,
                                                     absl::string_view op) {
  if (domain == kQaicDomain && op == "CtxScatter") {
    auto f = NewFunction(domain, op, {"data", "position_ids", "updates"});
    Body b(&f);
    BuildScatter(b, "data", "", "position_ids", "updates");
    return f;
  }
  if (domain == kQaicDomain && op == "CtxScatterCB") {
    auto f = NewFunction(domain, op,
                         {"data", "batch_index", "position_ids", "updates"});
    Body b(&f);
    BuildScatter(b, "data", Rows(b, "batch_index"), "position_ids", "updates");
    return f;
  }
  if (domain == kQaicDomain && op == "CtxGather") {
    auto f = NewFunction(domain, op, {"data", "ctx_indices"});
    Body b(&f);
    BuildGather(b, "data", "", "ctx_indices");
    return f;
  }
  if (domain == kQaicDomain && op == "CtxGatherCB") {
    auto f = NewFunction(domain, op, {"data", "batch_index", "ctx_indices"});
    Body b(&f);
    BuildGather(b, "data", Rows(b, "batch_index"), "ctx_indices");
    return f;
  }
  if (domain == kQaicDomain && op == "MoE") {
    auto f = NewFunction(
        domain, op, {"x", "router_logits", "gate", "up", "down"},
        {"top_k", "scoring", "norm_topk_prob", "score_on_input", "activation"});
    Body b(&f);
    BuildMoE(b);
    return f;
  }
  if (domain == kQtiDomain && op == "CustomRMSNorm") {
    auto f = NewFunction(domain, op, {"hidden", "weight"}, {"epsilon"});
    Body b(&f);
    onnx::AttributeProto eps_ref;
    eps_ref.set_name("value_float");
    eps_ref.set_type(onnx::AttributeProto::FLOAT);
    eps_ref.set_ref_attr_name("epsilon");
    std::string eps = b.Op("Constant", {}, {eps_ref});
    // In double, rounded once to x's type: y = x * (1 / sqrt(mean(x²) + eps))
    // * weight, in the evaluator kernel's order.
    constexpr int64_t kDouble = 11;  // TensorProto.DOUBLE
    std::string x = b.Op("Cast", {"hidden"}, {Body::IntAttr("to", kDouble)});
    std::string w = b.Op("Cast", {"weight"}, {Body::IntAttr("to", kDouble)});
    std::string var =
        b.Op("ReduceMean", {b.Op("Mul", {x, x})},
             {Body::IntsAttr("axes", {-1}), Body::IntAttr("keepdims", 1)});
    std::string eps_d = b.Op("Cast", {eps}, {Body::IntAttr("to", kDouble)});
    std::string inv =
        b.Op("Reciprocal", {b.Op("Sqrt", {b.Op("Add", {var, eps_d})})});
    std::string y = b.Op("Mul", {b.Op("Mul", {x, inv}), w});
    b.Op("CastLike", {y, "hidden"});
    b.NameLastOutput("out");
    return f;
  }
  return absl::NotFoundError(
      absl::StrCat("no ONNX function for ", domain, ".", op));
}

}  // namespace qeff::ir::onnx_internal
