#include "hw/cpu/compiler.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "hw/cpu/compiler_internal.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/kv_mxint8.h"
#include "ir/op_schema.h"

namespace qeff::hw::cpu {
namespace {

using ir::Graph;
using ir::ValueId;

constexpr int64_t kAlign = 64;
constexpr absl::string_view kStateSuffix = "_RetainedState";

absl::Status CompileError(const Specialization& spec, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("cpu compiler: specialization '", spec.name, "': ", what));
}

// Binds the symbols everywhere, re-infers shapes; every live value must end
// up with a static shape.
absl::StatusOr<Graph> Specialize(const Graph& graph,
                                 const Specialization& spec) {
  Graph g = graph;
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
  return g;
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

struct BufferInfo {
  int64_t bytes = 0;
  int first = -1, last = -1;
};

class Lowerer {
 public:
  Lowerer(
      CpuProgram* p, int spec_index,
      std::map<std::tuple<const ir::Buffer*, int, int, std::vector<int64_t>>,
               int>* consts)
      : p_(p), s_(spec_index), consts_(consts) {}

  absl::Status Run(const Graph& g) {
    const Specialization& spec = p_->specs[s_];
    // Graph inputs.
    for (ValueId v : g.inputs()) {
      const ir::Value& val = g.value(v);
      int idx = -1;
      SlotKind kind = SlotKind::kInput;
      const auto& ins = p_->io.inputs[s_];
      for (size_t i = 0; i < ins.size(); ++i)
        if (ins[i].name == val.name) idx = static_cast<int>(i);
      if (idx < 0) {
        kind = SlotKind::kState;
        for (size_t i = 0; i < p_->io.state.size(); ++i)
          if (p_->io.state[i].name == val.name) idx = static_cast<int>(i);
      }
      if (idx < 0)
        return CompileError(spec,
                            absl::StrCat("unknown input '", val.name, "'"));
      slot_of_[v] = NewSlot(kind, idx, val.type.dtype, ir::QuantFormat::kNone,
                            val.type.shape.StaticDims());
    }
    QEFF_ASSIGN_OR_RETURN(std::vector<ir::NodeId> order, g.TopologicalOrder());
    for (ir::NodeId id : order) {
      const ir::Node& n = g.node(id);
      if (n.dead) continue;
      QEFF_ASSIGN_OR_RETURN(Step step, LowerNode(g, n));
      if (step.op != "Alias" && FindKernel(step.op) == nullptr)
        return CompileError(spec,
                            absl::StrCat(n.Describe(), ": no cpu kernel"));
      for (ValueId v : n.inputs) {
        if (v == ir::kNoValue) {
          step.inputs.push_back(-1);
          continue;
        }
        QEFF_ASSIGN_OR_RETURN(int sl, SlotFor(g, v));
        step.inputs.push_back(sl);
      }
      if (step.op == "Alias") {
        const Slot in = plan_.slots[step.inputs[0]];
        slot_of_[n.outputs[0]] =
            NewSlot(in.kind, in.index, in.dtype, in.quant,
                    g.value(n.outputs[0]).type.shape.StaticDims());
        continue;
      }
      const bool scatter =
          n.domain == ir::kQaicDomain &&
          (n.op_type == "CtxScatter" || n.op_type == "CtxScatterCB");
      for (ValueId v : n.outputs) {
        const ir::Value& val = g.value(v);
        const Slot& in0 = plan_.slots[step.inputs[0]];
        if (scatter && in0.kind == SlotKind::kState &&
            g.value(n.inputs[0]).uses.size() == 1 && val.is_graph_output &&
            val.name == absl::StrCat(g.value(n.inputs[0]).name, kStateSuffix)) {
          // In place on the session's state buffer: only the updates move.
          slot_of_[v] = step.inputs[0];
        } else {
          slot_of_[v] =
              NewArenaSlot(val.type.dtype, val.type.shape.StaticDims());
        }
        step.outputs.push_back(slot_of_[v]);
      }
      AddStep(std::move(step));
    }
    // Outputs: copies into fresh output tensors / back into state.
    const auto& outs = g.outputs();
    int out_index = 0;
    for (ValueId v : outs) {
      const ir::Value& val = g.value(v);
      QEFF_ASSIGN_OR_RETURN(int src, SlotFor(g, v));
      std::string name = val.name;
      int target;
      if (absl::EndsWith(name, kStateSuffix)) {
        std::string in = name.substr(0, name.size() - kStateSuffix.size());
        int idx = -1;
        for (size_t i = 0; i < p_->io.state.size(); ++i)
          if (p_->io.state[i].name == in) idx = static_cast<int>(i);
        if (idx < 0)
          return CompileError(spec,
                              absl::StrCat("output '", name, "' has no state"));
        const Slot& s = plan_.slots[src];
        if (s.kind == SlotKind::kState && s.index == idx) continue;
        target = NewSlot(SlotKind::kState, idx, s.dtype, ir::QuantFormat::kNone,
                         s.dims);
      } else {
        const Slot& s = plan_.slots[src];
        target = NewSlot(SlotKind::kOutput, out_index++, s.dtype,
                         ir::QuantFormat::kNone, s.dims);
      }
      Step copy;
      copy.op = "Copy";
      copy.label = absl::StrCat("output '", name, "'");
      copy.inputs = {src};
      copy.outputs = {target};
      AddStep(std::move(copy));
    }
    PlanArena();
    p_->plans[s_] = std::move(plan_);
    return absl::OkStatus();
  }

 private:
  int NewSlot(SlotKind kind, int index, ir::DType dt, ir::QuantFormat q,
              std::vector<int64_t> dims) {
    Slot s;
    s.kind = kind;
    s.index = index;
    s.dtype = dt;
    s.quant = q;
    s.dims = std::move(dims);
    plan_.slots.push_back(std::move(s));
    return static_cast<int>(plan_.slots.size()) - 1;
  }
  int NewArenaSlot(ir::DType dt, std::vector<int64_t> dims) {
    BufferInfo b;
    b.bytes = (ir::NumElements(dims) * static_cast<int64_t>(ir::DTypeSize(dt)) +
               kAlign - 1) /
              kAlign * kAlign;
    buffers_.push_back(b);
    return NewSlot(SlotKind::kArena, static_cast<int>(buffers_.size()) - 1, dt,
                   ir::QuantFormat::kNone, std::move(dims));
  }
  absl::StatusOr<int> SlotFor(const Graph& g, ValueId v) {
    auto it = slot_of_.find(v);
    if (it != slot_of_.end()) return it->second;
    const ir::Value& val = g.value(v);
    if (!val.is_constant())
      return absl::InternalError(
          absl::StrCat("cpu compiler: value '", val.name, "' unset"));
    const ir::Tensor& t = *val.constant;
    auto key = std::make_tuple(t.buffer().get(), static_cast<int>(t.dtype()),
                               static_cast<int>(t.quant()), t.dims());
    auto [cit, inserted] =
        consts_->emplace(key, static_cast<int>(p_->constants.size()));
    if (inserted) p_->constants.push_back(t);
    int sl =
        NewSlot(SlotKind::kConst, cit->second, t.dtype(), t.quant(), t.dims());
    slot_of_[v] = sl;
    return sl;
  }
  void AddStep(Step step) {
    const int at = static_cast<int>(plan_.steps.size());
    for (int sl : step.inputs) {
      if (sl < 0 || plan_.slots[sl].kind != SlotKind::kArena) continue;
      buffers_[plan_.slots[sl].index].last = at;
    }
    for (int sl : step.outputs) {
      if (plan_.slots[sl].kind != SlotKind::kArena) continue;
      BufferInfo& b = buffers_[plan_.slots[sl].index];
      if (b.first < 0) b.first = at;
      b.last = std::max(b.last, at);
    }
    plan_.steps.push_back(std::move(step));
  }
  // Greedy: largest first, lowest offset free over the buffer's lifetime.
  void PlanArena() {
    std::vector<int> order(buffers_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      return buffers_[a].bytes > buffers_[b].bytes;
    });
    plan_.buffer_offsets.assign(buffers_.size(), 0);
    std::vector<int> placed;
    int64_t total = 0;
    for (int b : order) {
      const BufferInfo& bi = buffers_[b];
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (int o : placed) {
        const BufferInfo& ob = buffers_[o];
        if (ob.last < bi.first || bi.last < ob.first) continue;
        busy.push_back(
            {plan_.buffer_offsets[o], plan_.buffer_offsets[o] + ob.bytes});
      }
      std::sort(busy.begin(), busy.end());
      int64_t off = 0;
      for (auto [s, e] : busy) {
        if (off + bi.bytes <= s) break;
        off = std::max(off, e);
      }
      plan_.buffer_offsets[b] = off;
      total = std::max(total, off + bi.bytes);
      placed.push_back(b);
    }
    plan_.arena_bytes = total;
  }

  CpuProgram* p_;
  int s_;
  std::map<std::tuple<const ir::Buffer*, int, int, std::vector<int64_t>>, int>*
      consts_;
  SpecPlan plan_;
  std::vector<BufferInfo> buffers_;
  absl::flat_hash_map<ValueId, int> slot_of_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<CpuProgram>> CompileProgram(
    const ir::Graph& graph, const std::vector<Specialization>& specs,
    const CompileOptions& options, CompileStats* stats) {
  if (options.num_devices != 1) {
    return absl::UnimplementedError(absl::StrCat(
        "cpu driver: num_devices=", options.num_devices,
        " (tensor slicing across cards) is not supported yet; use 1"));
  }
  if (options.num_cores < 0)
    return absl::InvalidArgumentError("cpu driver: num_cores must be >= 0");
  auto p = std::make_shared<CpuProgram>();
  p->specs = specs;
  p->options = options;
  QEFF_ASSIGN_OR_RETURN(p->io, BindGraphIO(graph, specs));
  if (options.mxint8_kv_cache) QEFF_RETURN_IF_ERROR(CheckMxInt8KvState(*p));
  p->plans.resize(specs.size());
  std::map<std::tuple<const ir::Buffer*, int, int, std::vector<int64_t>>, int>
      consts;
  CompileStats local;
  PackedWeights packed;
  for (size_t s = 0; s < specs.size(); ++s) {
    QEFF_ASSIGN_OR_RETURN(Graph g, Specialize(graph, specs[s]));
    QEFF_ASSIGN_OR_RETURN(int lin,
                          FuseLinear(g, options.mxfp6_matmul, &packed));
    QEFF_ASSIGN_OR_RETURN(int folded, Fold(g));
    QEFF_ASSIGN_OR_RETURN(int blocks, FuseBlocks(g));
    local.fused_linear += lin;
    local.folded += folded;
    local.fused_blocks += blocks;
    Lowerer lw(p.get(), static_cast<int>(s), &consts);
    QEFF_RETURN_IF_ERROR(lw.Run(g));
    if (options.mxint8_kv_cache)
      QEFF_RETURN_IF_ERROR(RewritePlanForMxInt8Kv(specs[s], p->plans[s]));
  }
  if (stats) *stats = local;
  return p;
}

}  // namespace qeff::hw::cpu
