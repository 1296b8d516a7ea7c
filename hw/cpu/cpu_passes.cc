#include "hw/cpu/cpu_passes.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/op_schema.h"

namespace qeff::hw::cpu {
namespace {

using ir::Graph;
using ir::ValueId;

// Binds the symbols everywhere, re-infers shapes; every live value must end
// up with a static shape.
absl::Status Specialize(Graph& g, const Specialization& spec) {
  for (ValueId v = 0; v < g.num_values(); ++v) {
    ir::TensorType& t = g.value(v).type;
    if (t.shape.ranked()) t.shape = t.shape.Bind(spec.symbols);
  }
  absl::Status st = ir::InferShapes(g);
  if (!st.ok()) return CompileError(spec, st.message());
  auto check = [&](ValueId v) -> absl::Status {
    const ir::Value& val = g.value(v);
    if (!val.type.shape.ranked() || !val.type.shape.is_static())
      return CompileError(
          spec, absl::StrCat("value '", val.name, "' has non-static type ",
                             val.type.ToString()));
    return absl::OkStatus();
  };
  for (ValueId v : g.inputs()) QEFF_RETURN_IF_ERROR(check(v));
  for (ir::NodeId n : g.LiveNodes())
    for (ValueId v : g.node(n).outputs)
      if (v != ir::kNoValue) QEFF_RETURN_IF_ERROR(check(v));
  return absl::OkStatus();
}

// Folds Shape/Constant nodes and nodes whose inputs are all constants, with
// the cpu kernels. Returns the number of folded nodes.
absl::StatusOr<int> Fold(Graph& g) {
  QEFF_ASSIGN_OR_RETURN(std::vector<ir::NodeId> order, g.TopologicalOrder());
  int folded = 0;
  for (ir::NodeId id : order) {
    const ir::Node& n = g.node(id);
    if (n.dead || n.outputs.size() != 1 || n.domain == kCpuDomain) continue;
    ValueId out = n.outputs[0];
    std::optional<ir::Tensor> result;
    if (n.op_type == "Shape" && n.domain.empty()) {
      std::vector<int64_t> d = g.value(n.inputs[0]).type.shape.StaticDims();
      const int64_t r = static_cast<int64_t>(d.size());
      int64_t s = n.GetInt("start", 0), e = n.GetInt("end", r);
      if (s < 0) s += r;
      if (e < 0) e += r;
      s = std::clamp<int64_t>(s, 0, r);
      e = std::clamp<int64_t>(e, s, r);
      std::vector<int64_t> v(d.begin() + s, d.begin() + e);
      result = ir::Tensor::I64({static_cast<int64_t>(v.size())}, v);
    } else if (n.op_type == "Constant" && n.domain.empty()) {
      if (const ir::Attribute* a = n.attr("value"))
        result = a->t();
      else if (const ir::Attribute* a = n.attr("value_float"))
        result = ir::Tensor::ScalarF32(a->f());
      else if (const ir::Attribute* a = n.attr("value_int"))
        result = ir::Tensor::ScalarI64(a->i());
      else if (const ir::Attribute* a = n.attr("value_ints"))
        result = ir::Tensor::I64({static_cast<int64_t>(a->ints().size())},
                                 a->ints());
      else
        return absl::InvalidArgumentError(absl::StrCat(
            "cpu compiler: ", n.Describe(), ": unsupported Constant form"));
    } else {
      bool all_const = !n.inputs.empty();
      std::vector<const ir::Tensor*> ins;
      for (ValueId v : n.inputs) {
        if (v == ir::kNoValue) {
          ins.push_back(nullptr);
          continue;
        }
        const ir::Value& val = g.value(v);
        if (!val.is_constant() || val.constant->is_quantized())
          all_const = false;
        ins.push_back(val.is_constant() ? &*val.constant : nullptr);
      }
      if (!all_const) continue;
      QEFF_ASSIGN_OR_RETURN(Step step, LowerNode(g, n));
      const ir::TensorType& ot = g.value(out).type;
      if (step.op == "Alias") {
        QEFF_ASSIGN_OR_RETURN(result, ins[0]->Reshaped(ot.shape.StaticDims()));
      } else {
        auto r = RunStepOnTensors(step, ins, {ot});
        if (!r.ok()) return r.status();
        result = (*r)[0];
      }
    }
    ValueId c = g.AddConstant(g.value(out).name, *std::move(result));
    g.ReplaceAllUsesWith(out, c);
    ++folded;
  }
  g.RemoveDeadCode();
  return folded;
}

}  // namespace

absl::Status CompileError(const Specialization& spec, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("cpu compiler: specialization '", spec.name, "': ", what));
}

absl::StatusOr<bool> SpecializePass::Run(Graph& g) {
  QEFF_RETURN_IF_ERROR(Specialize(g, spec_));
  return true;
}

absl::StatusOr<bool> FuseLinearPass::Run(Graph& g) {
  QEFF_ASSIGN_OR_RETURN(int n, FuseLinear(g, format_, dtype_, packed_));
  *count_ += n;
  return n > 0;
}

absl::StatusOr<bool> FoldPass::Run(Graph& g) {
  QEFF_ASSIGN_OR_RETURN(int n, Fold(g));
  *count_ += n;
  return n > 0;
}

absl::StatusOr<bool> FuseBlocksPass::Run(Graph& g) {
  QEFF_ASSIGN_OR_RETURN(int n, FuseBlocks(g));
  *count_ += n;
  return n > 0;
}

}  // namespace qeff::hw::cpu
