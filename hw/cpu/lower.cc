// Node -> kernel step (name and parameters); running a step on tensors for
// compile-time constant folding.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "hw/cpu/compiler_internal.h"
#include "hw/cpu/kernels.h"

namespace qeff::hw::cpu {
namespace {

absl::Status NodeError(const ir::Node& n, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("cpu compiler: ", n.Describe(), ": ", what));
}

absl::StatusOr<int64_t> Axis(const ir::Node& n, int64_t a, int64_t rank) {
  if (a < -rank || a >= rank)
    return NodeError(n, absl::StrCat("axis ", a, " out of range"));
  return a < 0 ? a + rank : a;
}

std::vector<int64_t> Dims(const ir::Graph& g, ir::ValueId v) {
  const ir::Shape& s = g.value(v).type.shape;
  return s.ranked() && s.is_static() ? s.StaticDims() : std::vector<int64_t>{};
}

absl::StatusOr<std::vector<int64_t>> ConstInts(const ir::Graph& g,
                                               const ir::Node& n, int i) {
  if (!n.has_input(i)) return std::vector<int64_t>{};
  const ir::Value& v = g.value(n.inputs[i]);
  if (!v.is_constant())
    return NodeError(
        n, absl::StrCat("input ", i, " must be a compile-time constant"));
  return v.constant->ToInts();
}

}  // namespace

absl::StatusOr<Step> LowerNode(const ir::Graph& g, const ir::Node& n) {
  Step s;
  s.label = n.Describe();
  const std::string& op = n.op_type;
  s.op = op;
  if (n.domain == kCpuDomain) {
    if (op == "RMSNorm") s.floats = {n.GetFloat("epsilon", 1e-6f)};
    if (op == "Attention")
      s.floats = {n.GetFloat("scale", 1.0f), n.GetFloat("masked", 0.0f),
                  n.GetFloat("softcap", 0.0f), n.GetFloat("softcap_inv", 0.0f)};
    if (op == "LayerNorm") {
      s.floats = {n.GetFloat("epsilon", 1e-5f)};
      s.ints = {n.GetInt("mode", 0)};
    }
    if (op == "Gelu") {
      s.ints = {n.GetInt("mode", 0)};
      if (const ir::Attribute* a = n.attr("params")) s.floats = a->floats();
    }
    return s;
  }
  // Custom ops of ir/custom_ops.h (names spelled here so that the driver
  // does not link the reference evaluator that owns that header).
  if (n.domain == ir::kQtiDomain && op == "CustomRMSNorm") {
    s.floats = {n.GetFloat("epsilon", 1e-6f)};
    return s;
  }
  if (n.domain == ir::kQaicDomain && op == "MoE") {
    s.ints = {n.GetInt("top_k", 0),          n.GetInt("scoring", 0),
              n.GetInt("norm_topk_prob", 0), n.GetInt("score_on_input", 0),
              n.GetInt("activation", 0),     n.GetInt("packed_experts", 0)};
    return s;
  }
  if (n.domain == ir::kQaicDomain) return s;  // CtxScatter/Gather(+CB)
  if (!n.domain.empty()) return NodeError(n, "unsupported domain");
  if (op == "Reshape" || op == "Unsqueeze" || op == "Squeeze" ||
      op == "Flatten" || op == "Identity") {
    s.op = "Alias";
    return s;
  }
  const std::vector<int64_t> in0 =
      n.has_input(0) ? Dims(g, n.inputs[0]) : std::vector<int64_t>{};
  const int64_t r = static_cast<int64_t>(in0.size());
  if (op == "Transpose") {
    std::vector<int64_t> perm = n.GetInts("perm");
    if (perm.empty())
      for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
    s.ints = perm;
  } else if (op == "Concat") {
    QEFF_ASSIGN_OR_RETURN(int64_t a, Axis(n, n.GetInt("axis", 0), r));
    s.ints = {a};
  } else if (op == "LayerNormalization") {
    // The last axis, f32, 1-D scale/bias, Y only (Mean/InvStdDev unused).
    QEFF_ASSIGN_OR_RETURN(int64_t a, Axis(n, n.GetInt("axis", -1), r));
    if (a != r - 1 || n.outputs.size() != 1)
      return NodeError(n,
                       "cpu LayerNormalization supports the last axis and "
                       "the Y output only");
    for (int i = 1; i < 3; ++i) {
      if (i == 2 && !n.has_input(2)) continue;
      const std::vector<int64_t> d = Dims(g, n.inputs[i]);
      if (d.size() != 1 || d[0] != in0.back() ||
          g.value(n.inputs[i]).type.dtype != ir::DType::kF32)
        return NodeError(n, "cpu LayerNormalization needs f32 [D] scale/bias");
    }
    if (g.value(n.inputs[0]).type.dtype != ir::DType::kF32)
      return NodeError(n, "cpu LayerNormalization supports f32 input");
    s.op = "LayerNorm";
    s.ints = {1};
    s.floats = {n.GetFloat("epsilon", 1e-5f)};
  } else if (op == "Split") {
    QEFF_ASSIGN_OR_RETURN(int64_t a, Axis(n, n.GetInt("axis", 0), r));
    int64_t sum = 0;
    for (ir::ValueId v : n.outputs) {
      const std::vector<int64_t> od = Dims(g, v);
      if (v == ir::kNoValue || od.size() != in0.size())
        return NodeError(n, "split output without a static shape");
      sum += od[a];
    }
    if (sum != in0[a])
      return NodeError(n, absl::StrCat("split sizes sum to ", sum,
                                       ", not the axis length ", in0[a]));
    s.ints = {a};
  } else if (op == "Gather" || op == "ArgMax") {
    QEFF_ASSIGN_OR_RETURN(int64_t a, Axis(n, n.GetInt("axis", 0), r));
    s.ints = {a, n.GetInt("select_last_index", 0)};
  } else if (op == "GatherND") {
    s.ints = {n.GetInt("batch_dims", 0)};
  } else if (op == "Softmax") {
    QEFF_ASSIGN_OR_RETURN(int64_t a, Axis(n, n.GetInt("axis", -1), r));
    s.ints = {a};
  } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
    std::vector<int64_t> axes = n.GetInts("axes");
    if (n.has_input(1)) {
      QEFF_ASSIGN_OR_RETURN(axes, ConstInts(g, n, 1));
    }
    s.ints.assign(r, axes.empty() ? 1 : 0);
    if (axes.empty() && n.GetInt("noop_with_empty_axes", 0)) {
      s.op = "Copy";
      s.ints.clear();
    }
    for (int64_t a : axes) {
      QEFF_ASSIGN_OR_RETURN(int64_t x, Axis(n, a, r));
      s.ints[x] = 1;
    }
  } else if (op == "Slice") {
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> starts, ConstInts(g, n, 1));
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> ends, ConstInts(g, n, 2));
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ConstInts(g, n, 3));
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> steps, ConstInts(g, n, 4));
    (void)ends;
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i)
        axes.push_back(static_cast<int64_t>(i));
    s.ints.clear();
    for (int64_t d = 0; d < r; ++d) s.ints.insert(s.ints.end(), {0, 1});
    for (size_t i = 0; i < axes.size(); ++i) {
      QEFF_ASSIGN_OR_RETURN(int64_t a, Axis(n, axes[i], r));
      const int64_t step = steps.empty() ? 1 : steps[i];
      if (step == 0) return NodeError(n, "slice step 0");
      const int64_t dim = in0[a];
      int64_t st = starts[i];
      if (st < 0) st += dim;
      st = step > 0 ? std::clamp<int64_t>(st, 0, dim)
                    : std::clamp<int64_t>(st, 0, dim - 1);
      s.ints[2 * a] = st;
      s.ints[2 * a + 1] = step;
    }
  } else if (op == "Conv") {
    // 1-D, f32, explicit pads (kernels_conv.cc).
    const std::vector<int64_t> pads = n.GetInts("pads");
    const std::vector<int64_t> st = n.GetInts("strides");
    const std::vector<int64_t> dl = n.GetInts("dilations");
    if (r != 3 || n.GetString("auto_pad", "NOTSET") != "NOTSET" ||
        (!pads.empty() && pads.size() != 2) || st.size() > 1 || dl.size() > 1 ||
        g.value(n.inputs[0]).type.dtype != ir::DType::kF32)
      return NodeError(n, "cpu Conv supports 1-D f32 with explicit pads");
    s.ints = {st.empty() ? 1 : st[0], pads.empty() ? 0 : pads[0],
              dl.empty() ? 1 : dl[0], n.GetInt("group", 1)};
  } else if (op == "Shape" || op == "Constant" || op == "ConstantOfShape") {
    return NodeError(n, "expected to be folded at compile time");
  } else if (FindKernel(op) == nullptr) {
    return NodeError(n, "no cpu kernel for this op");
  }
  return s;
}

absl::StatusOr<std::vector<ir::Tensor>> RunStepOnTensors(
    const Step& step, const std::vector<const ir::Tensor*>& inputs,
    const std::vector<ir::TensorType>& output_types) {
  KernelFn fn = FindKernel(step.op);
  if (!fn) return absl::InternalError(absl::StrCat("no kernel ", step.op));
  std::vector<Slot> slots(inputs.size() + output_types.size());
  std::vector<Arg> in(inputs.size()), out(output_types.size());
  std::vector<ir::Tensor> results;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) continue;
    slots[i].dtype = inputs[i]->dtype();
    slots[i].quant = inputs[i]->quant();
    slots[i].dims = inputs[i]->dims();
    in[i].slot = &slots[i];
    in[i].data = const_cast<uint8_t*>(inputs[i]->raw());
  }
  for (size_t i = 0; i < output_types.size(); ++i) {
    Slot& sl = slots[inputs.size() + i];
    sl.dtype = output_types[i].dtype;
    sl.dims = output_types[i].shape.StaticDims();
    results.push_back(ir::Tensor::Zeros(sl.dtype, sl.dims));
  }
  for (size_t i = 0; i < output_types.size(); ++i) {
    out[i].slot = &slots[inputs.size() + i];
    out[i].data = results[i].mutable_raw();
  }
  KernelCtx ctx{step, in, out};
  QEFF_RETURN_IF_ERROR(fn(ctx));
  return results;
}

}  // namespace qeff::hw::cpu
