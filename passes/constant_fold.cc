#include "passes/constant_fold.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/evaluator.h"

namespace qeff::passes {

absl::StatusOr<bool> ConstantFolding::Run(ir::Graph& g) {
  QEFF_ASSIGN_OR_RETURN(std::vector<ir::NodeId> order, g.TopologicalOrder());
  bool changed = false;
  for (ir::NodeId id : order) {
    const ir::Node& n = g.node(id);
    if (n.dead || !n.domain.empty()) continue;
    std::vector<ir::Tensor> outs;
    if (n.op_type == "Shape" && n.has_input(0)) {
      const ir::TensorType& t = g.value(n.inputs[0]).type;
      if (!t.shape.is_static()) continue;
      std::vector<int64_t> dims = t.shape.StaticDims();
      int64_t r = static_cast<int64_t>(dims.size());
      int64_t start = n.GetInt("start", 0), end = n.GetInt("end", r);
      if (start < 0) start += r;
      if (end < 0) end += r;
      start = std::clamp<int64_t>(start, 0, r);
      end = std::clamp<int64_t>(end, start, r);
      std::vector<int64_t> v(dims.begin() + start, dims.begin() + end);
      outs.push_back(ir::Tensor::I64({static_cast<int64_t>(v.size())}, v));
    } else {
      bool all_const = true;
      size_t in_bytes = 0;
      std::vector<const ir::Tensor*> inputs;
      for (ir::ValueId v : n.inputs) {
        if (v == ir::kNoValue) {
          inputs.push_back(nullptr);
          continue;
        }
        const ir::Value& val = g.value(v);
        // A block-quantized weight stays as it is (the kernels read plain
        // tensors; folding would dequantize it into a larger constant).
        if (!val.is_constant() || val.constant->is_quantized()) {
          all_const = false;
          break;
        }
        in_bytes += val.constant->byte_size();
        inputs.push_back(&*val.constant);
      }
      if (!all_const || in_bytes > o_.max_input_bytes) continue;
      // Expected output size from inferred types, when known.
      size_t out_bytes = 0;
      bool known = true;
      for (ir::ValueId o : n.outputs) {
        const ir::TensorType& t = g.value(o).type;
        if (!t.shape.is_static()) {
          known = false;
          break;
        }
        out_bytes += t.shape.NumElements() * ir::DTypeSize(t.dtype);
      }
      if (!known || out_bytes > o_.max_bytes ||
          out_bytes > std::max<double>(1024, o_.max_growth * in_bytes))
        continue;
      const ir::Kernel* k = ir::FindKernel(n.domain, n.op_type);
      if (!k) continue;
      ir::KernelContext ctx{g, n, inputs};
      absl::Status s = (*k)(ctx, &outs);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("folding ", n.Describe(),
                                                   ": ", s.message()));
      }
    }
    for (size_t i = 0; i < outs.size() && i < n.outputs.size(); ++i) {
      ir::ValueId old = n.outputs[i];
      ir::ValueId c = g.AddConstant(g.value(old).name, std::move(outs[i]));
      g.ReplaceAllUsesWith(old, c);
    }
    changed = true;
  }
  if (changed) g.RemoveDeadCode();
  return changed;
}

}  // namespace qeff::passes
