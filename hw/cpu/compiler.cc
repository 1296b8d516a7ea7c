#include "hw/cpu/compiler.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "hw/cpu/compiler_internal.h"
#include "hw/cpu/cpu_passes.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/kv_mxint8.h"
#include "ir/op_schema.h"
#include "passes/pass_pipeline.h"

namespace qeff::hw::cpu {
namespace {

using ir::Graph;
using ir::ValueId;

constexpr int64_t kAlign = 64;
constexpr absl::string_view kStateSuffix = "_RetainedState";

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
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
  // Seconds per pass and plan stage, summed over specializations, in the
  // order they first ran.
  auto add_timing = [&](const std::string& name, double seconds) {
    for (StageTiming& t : local.timings) {
      if (t.name == name) {
        t.seconds += seconds;
        return;
      }
    }
    local.timings.push_back({name, seconds});
  };
  for (size_t s = 0; s < specs.size(); ++s) {
    passes::PipelineOptions po;
    po.dump_regex = options.pass_dump_regex;
    po.backend_domains = {kCpuDomain};
    passes::PassPipeline pipeline(std::move(po));
    pipeline.AddPass<SpecializePass>(specs[s]);
    pipeline.AddPass<FuseLinearPass>(
        options.mxfp6_matmul ? ir::QuantFormat::kMXFP6 : options.weight_format,
        options.weight_dtype, &packed, &local.fused_linear);
    pipeline.AddPass<FoldPass>(&local.folded);
    pipeline.AddPass<FuseBlocksPass>(&local.fused_blocks);
    Graph g = graph;
    QEFF_RETURN_IF_ERROR(pipeline.Run(g).status());
    for (const passes::PassTiming& t : pipeline.timings())
      add_timing(t.pass, t.seconds);
    auto start = std::chrono::steady_clock::now();
    Lowerer lw(p.get(), static_cast<int>(s), &consts);
    QEFF_RETURN_IF_ERROR(lw.Run(g));
    add_timing("cpu_lower", SecondsSince(start));
    if (options.mxint8_kv_cache) {
      start = std::chrono::steady_clock::now();
      QEFF_RETURN_IF_ERROR(RewritePlanForMxInt8Kv(specs[s], p->plans[s]));
      add_timing("cpu_mxint8_kv_plan", SecondsSince(start));
    }
  }
  if (stats) *stats = local;
  return p;
}

}  // namespace qeff::hw::cpu
