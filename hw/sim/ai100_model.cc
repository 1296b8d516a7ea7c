#include "hw/sim/ai100_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/json.h"
#include "base/status_macros.h"
#include "ir/op_schema.h"

namespace qeff::hw::sim {
namespace {

constexpr double kGB = 1e9, kMB = 1e6, kMiB = 1024.0 * 1024.0;

// Datasheet figures, fixed before any comparison with measured results
// (DESIGN.md "Devices" holds the same table):
//  - Qualcomm Cloud AI 100 product brief and the Cloud AI 100 Ultra
//    announcement (qualcomm.com, Nov 2023): Standard 14 AI cores, 16 GB
//    LPDDR4x at 137 GB/s, 126 MB on-chip SRAM, 110 FP16 TFLOPs, 325 INT8
//    TOPs; Pro 16 cores, 32 GB, 137 GB/s, 144 MB, 125 TFLOPs, 375 TOPs;
//    Ultra 4 SoCs / 64 cores, 128 GB, 548 GB/s, 576 MB, 290 TFLOPs,
//    870 TOPs per card (divided by 4 here: per SoC).
//  - 8 MiB VTCM per AI core (Qualcomm Cloud AI 100 architecture, Hot Chips
//    33, 2021).
//  - Link: each SoC's PCIe Gen4 x8 (16 GB/s per direction). MLPerf
//    Inference v1.x Qualcomm submissions list the AI 100 PCIe card's host
//    interconnect as "1x PCIe 8 lane Gen4" (cKnowledge.io MLPerf result
//    files, QAIC_SUT). The Ultra's SoCs talk through the card's PCIe switch;
//    we assume the same per-SoC x8 rate there and between cards.
constexpr double kPcieGen4x8 = 16 * kGB;

std::vector<Ai100Sku> MakeSkus() {
  std::vector<Ai100Sku> skus(3);
  Ai100Sku& s = skus[0];
  s.name = "ai100-standard";
  s.socs_per_card = 1;
  s.cores_per_soc = 14;
  s.ddr_bytes_per_soc = 16 * kGB;
  s.ddr_bytes_per_s_per_soc = 137 * kGB;
  s.sram_bytes_per_soc = 126 * kMB;
  s.fp16_flops_per_soc = 110e12;
  s.int8_ops_per_soc = 325e12;
  Ai100Sku& p = skus[1];
  p.name = "ai100-pro";
  p.socs_per_card = 1;
  p.cores_per_soc = 16;
  p.ddr_bytes_per_soc = 32 * kGB;
  p.ddr_bytes_per_s_per_soc = 137 * kGB;
  p.sram_bytes_per_soc = 144 * kMB;
  p.fp16_flops_per_soc = 125e12;
  p.int8_ops_per_soc = 375e12;
  Ai100Sku& u = skus[2];
  u.name = "ai100-ultra";
  u.socs_per_card = 4;
  u.cores_per_soc = 64 / 4;
  u.ddr_bytes_per_soc = 128 * kGB / 4;
  u.ddr_bytes_per_s_per_soc = 548 * kGB / 4;
  u.sram_bytes_per_soc = 576 * kMB / 4;
  u.fp16_flops_per_soc = 290e12 / 4;
  u.int8_ops_per_soc = 870e12 / 4;
  for (Ai100Sku& k : skus) {
    k.vtcm_bytes_per_core = 8 * kMiB;
    k.link_bytes_per_s = kPcieGen4x8;
  }
  return skus;
}

// Bytes per element as stored on the card (see ai100_model.h).
constexpr double kFp16Bytes = 2.0;
constexpr double kMxfp6Bytes = (32 * 6 + 8) / 8.0 / 32;   // 0.78125
constexpr double kMxint8Bytes = (32 * 8 + 8) / 8.0 / 32;  // 1.03125

bool IsMatMul(const ir::Node& n) {
  return n.op_type == "MatMul" || n.op_type == "Gemm";
}

// The constant behind `v` through layout-only ops (a Linear weight's
// Transpose/Cast), or kNoValue.
ir::ValueId ConstantSource(const ir::Graph& g, ir::ValueId v) {
  for (int hops = 0; hops < 8; ++hops) {
    if (g.value(v).is_constant()) return v;
    const ir::Node* p = g.Producer(v);
    if (!p || p->inputs.empty()) return ir::kNoValue;
    if (p->op_type != "Transpose" && p->op_type != "Cast" &&
        p->op_type != "Reshape" && p->op_type != "DequantizeLinear")
      return ir::kNoValue;
    v = p->inputs[0];
  }
  return ir::kNoValue;
}

absl::StatusOr<std::vector<int64_t>> BoundDims(const ir::Graph& g,
                                               ir::ValueId v,
                                               const Specialization& spec,
                                               const std::string& where) {
  const ir::Value& val = g.value(v);
  if (val.is_constant()) return val.constant->dims();
  const ir::Shape& s = val.type.shape;
  if (!s.ranked())
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": value '", val.name, "' has no known shape"));
  std::vector<int64_t> dims;
  for (const ir::Dim& d : s.dims()) {
    auto e = d.Evaluate(spec.symbols);
    if (!e.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": value '", val.name, "' dim ", d.ToString(),
                       " does not resolve in specialization '", spec.name,
                       "': ", e.status().message()));
    dims.push_back(*e);
  }
  return dims;
}

double Product(const std::vector<int64_t>& d) {
  double p = 1;
  for (int64_t x : d) p *= static_cast<double>(x);
  return p;
}

}  // namespace

const std::vector<Ai100Sku>& Ai100Skus() {
  static const std::vector<Ai100Sku>* skus =
      new std::vector<Ai100Sku>(MakeSkus());
  return *skus;
}

absl::StatusOr<Ai100Sku> FindSku(absl::string_view name) {
  std::vector<std::string> names;
  for (const Ai100Sku& s : Ai100Skus()) {
    if (s.name == name) return s;
    names.push_back(s.name);
  }
  return absl::NotFoundError(
      absl::StrCat("unknown Cloud AI 100 SKU '", name,
                   "'; known: ", absl::StrJoin(names, ", ")));
}

double ExpertsReadFraction(int64_t experts, int64_t top_k, double rows) {
  if (experts <= 0 || rows <= 0) return 0;
  const double miss = 1.0 - static_cast<double>(std::min(top_k, experts)) /
                                static_cast<double>(experts);
  return 1.0 - std::pow(miss, rows);
}

absl::StatusOr<Workload> WorkloadOfGraph(const ir::Graph& graph,
                                         const Specialization& spec) {
  // Shapes of every value (a graph straight from a builder has none); the
  // copy shares the constants' storage.
  ir::Graph g = graph;
  QEFF_RETURN_IF_ERROR(ir::InferShapes(g));
  Workload w;
  w.specialization = spec.name;
  if (auto ids = g.FindInput("input_ids")) {
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> d,
                          BoundDims(g, *ids, spec, "input_ids"));
    if (d.size() == 2) {
      w.batch_size = d[0];
      w.seq_len = d[1];
    }
  }
  // Constants: MatMul weights apart from the rest.
  std::vector<bool> is_weight(g.num_values(), false);
  for (ir::NodeId id : g.LiveNodes()) {
    const ir::Node& n = g.node(id);
    if (n.domain == ir::kQaicDomain && n.op_type == "MoE") {
      // Routed experts (ir/custom_ops.h): x [..., H], gate/up [E, F, H],
      // down [E, H, F]; top_k experts' three products per row.
      const std::string where = absl::StrCat("MoE '", n.name, "'");
      if (n.inputs.size() != 5)
        return absl::InvalidArgumentError(absl::StrCat(where, ": 5 inputs"));
      QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> x,
                            BoundDims(g, n.inputs[0], spec, where));
      QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> gate,
                            BoundDims(g, n.inputs[2], spec, where));
      if (x.empty() || gate.size() != 3 || x.back() != gate[2])
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": x and gate [E, F, H] do not agree"));
      const double rows = Product(x) / static_cast<double>(x.back());
      const int64_t top_k = n.GetInt("top_k", 1);
      w.matmul_flops += 2.0 * rows * static_cast<double>(top_k) * 3.0 *
                        static_cast<double>(gate[1] * gate[2]);
      double elems = 0;
      for (int i = 2; i < 5; ++i) {
        const ir::ValueId cid = ConstantSource(g, n.inputs[i]);
        if (cid == ir::kNoValue || is_weight[cid]) continue;
        is_weight[cid] = true;
        elems += static_cast<double>(g.value(cid).constant->num_elements());
      }
      w.expert_weight_elements += elems;
      w.expert_weight_elements_read +=
          elems * ExpertsReadFraction(gate[0], top_k, rows);
      continue;
    }
    if (!IsMatMul(n)) continue;
    const std::string where = absl::StrCat(n.op_type, " '", n.name, "'");
    if (n.inputs.size() < 2)
      return absl::InvalidArgumentError(absl::StrCat(where, ": < 2 inputs"));
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> a,
                          BoundDims(g, n.inputs[0], spec, where));
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> out,
                          BoundDims(g, n.outputs[0], spec, where));
    if (a.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": scalar first input"));
    int64_t k = a.back();
    if (n.op_type == "Gemm" && n.GetInt("transA", 0) && a.size() == 2) k = a[0];
    w.matmul_flops += 2.0 * Product(out) * static_cast<double>(k);
    for (int i = 0; i < 2; ++i) {
      const ir::ValueId cid = ConstantSource(g, n.inputs[i]);
      if (cid != ir::kNoValue) {
        if (!is_weight[cid]) {
          is_weight[cid] = true;
          w.matmul_weight_elements +=
              static_cast<double>(g.value(cid).constant->num_elements());
          if (w.hidden_size == 0) w.hidden_size = k;
        }
      }
    }
  }
  for (ir::ValueId c : g.Constants()) {
    if (!is_weight[c])
      w.other_constant_elements +=
          static_cast<double>(g.value(c).constant->num_elements());
  }
  int64_t state_inputs = 0;
  for (ir::ValueId in : g.inputs()) {
    const std::string& name = g.value(in).name;
    if (!g.FindOutput(name + "_RetainedState")) continue;
    QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> d,
                          BoundDims(g, in, spec, "retained state"));
    w.state_elements += Product(d);
    ++state_inputs;
  }
  w.layers = state_inputs / 2;
  auto ctx = spec.symbols.find("ctx_len");
  w.state_write_fraction =
      ctx != spec.symbols.end() && ctx->second > 0 && w.seq_len > 0
          ? std::min(1.0, static_cast<double>(w.seq_len) / ctx->second)
          : 1.0;
  return w;
}

absl::StatusOr<Estimate> EstimateWorkloads(
    const std::vector<Workload>& workloads, const Ai100Sku& sku,
    const Placement& placement) {
  Estimate e;
  e.sku = sku;
  e.placement = placement;
  Placement& p = e.placement;
  if (p.num_cores == 0) p.num_cores = sku.cores_per_soc;
  if (p.num_cores < 0 || p.num_cores > sku.cores_per_soc)
    return absl::InvalidArgumentError(
        absl::StrCat("num_cores=", p.num_cores, ": ", sku.name, " has ",
                     sku.cores_per_soc, " AI cores per SoC"));
  if (p.num_devices < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("num_devices=", p.num_devices, " must be >= 1"));
  const int n = p.num_devices;
  e.cards = (n + sku.socs_per_card - 1) / sku.socs_per_card;
  if (workloads.empty())
    return absl::InvalidArgumentError("no specializations to estimate");
  const Workload& w0 = workloads[0];
  const double weight_elem_bytes = p.mxfp6_matmul ? kMxfp6Bytes : kFp16Bytes;
  const double kv_elem_bytes = p.mxint8_kv_cache ? kMxint8Bytes : kFp16Bytes;
  const double matmul_weight_bytes =
      w0.matmul_weight_elements * weight_elem_bytes;
  e.weight_bytes = matmul_weight_bytes +
                   w0.expert_weight_elements * weight_elem_bytes +
                   w0.other_constant_elements * kFp16Bytes;
  e.state_bytes = 0;
  for (const Workload& w : workloads)
    e.state_bytes = std::max(e.state_bytes, w.state_elements * kv_elem_bytes);
  e.ddr_bytes_per_soc = (e.weight_bytes + e.state_bytes) / n;
  if (e.ddr_bytes_per_soc > sku.ddr_bytes_per_soc) {
    const double need = e.weight_bytes + e.state_bytes;
    const int socs_needed =
        static_cast<int>(std::ceil(need / sku.ddr_bytes_per_soc));
    return absl::ResourceExhaustedError(absl::StrFormat(
        "does not fit %s: needs %.2f GB per SoC (weights %.2f GB + KV cache "
        "%.2f GB over %d SoC%s), a SoC has %.2f GB DDR: short by %.2f GB "
        "per SoC; use num_devices >= %d%s",
        sku.name, e.ddr_bytes_per_soc / kGB, e.weight_bytes / kGB,
        e.state_bytes / kGB, n, n == 1 ? "" : "s", sku.ddr_bytes_per_soc / kGB,
        (e.ddr_bytes_per_soc - sku.ddr_bytes_per_soc) / kGB, socs_needed,
        p.mxfp6_matmul ? "" : ", or mxfp6_matmul"));
  }
  const double flops_rate =
      n * sku.fp16_flops_per_soc * p.num_cores / sku.cores_per_soc;
  const double ddr_rate = n * sku.ddr_bytes_per_s_per_soc;
  for (const Workload& w : workloads) {
    // Weights a call reads past what the SoCs' SRAM holds: the dense ones
    // and the experts it is expected to route to.
    const double streamed_weights =
        std::max(0.0, matmul_weight_bytes +
                          w.expert_weight_elements_read * weight_elem_bytes -
                          n * sku.sram_bytes_per_soc);
    CallEstimate c;
    c.specialization = w.specialization;
    c.batch_size = w.batch_size;
    c.seq_len = w.seq_len;
    c.flops = w.matmul_flops;
    const double state = w.state_elements * kv_elem_bytes;
    c.ddr_bytes = streamed_weights + state + state * w.state_write_fraction;
    if (n > 1) {
      const double m = static_cast<double>(w.batch_size * w.seq_len);
      c.link_bytes = 2.0 * w.layers * 2.0 * (n - 1) / n * m *
                     static_cast<double>(w.hidden_size) * kFp16Bytes;
      c.link_s = c.link_bytes / sku.link_bytes_per_s;
    }
    c.compute_s = c.flops / flops_rate;
    c.memory_s = c.ddr_bytes / ddr_rate;
    c.bound = c.compute_s >= c.memory_s ? "compute" : "memory";
    c.seconds = std::max(c.compute_s, c.memory_s) + c.link_s;
    c.tokens_per_s =
        c.seconds > 0
            ? static_cast<double>(w.batch_size * w.seq_len) / c.seconds
            : 0;
    e.calls.push_back(std::move(c));
  }
  return e;
}

double TimeToFirstToken(const CallEstimate& prefill, int64_t prompt_len) {
  if (prefill.seq_len <= 0) return 0;
  const int64_t chunks = (prompt_len + prefill.seq_len - 1) / prefill.seq_len;
  return static_cast<double>(std::max<int64_t>(1, chunks)) * prefill.seconds;
}

std::string EstimateToJson(const Estimate& e) {
  using base::JsonValue;
  JsonValue j = JsonValue::Object();
  j.Set("device", JsonValue::String("sim:" + e.sku.name));
  j.Set("modelled", JsonValue::Bool(true));
  JsonValue p = JsonValue::Object();
  p.Set("num_cores", JsonValue::Int(e.placement.num_cores));
  p.Set("num_devices", JsonValue::Int(e.placement.num_devices));
  p.Set("cards", JsonValue::Int(e.cards));
  p.Set("mxfp6_matmul", JsonValue::Bool(e.placement.mxfp6_matmul));
  p.Set("mxint8_kv_cache", JsonValue::Bool(e.placement.mxint8_kv_cache));
  j.Set("placement", std::move(p));
  j.Set("weight_bytes", JsonValue::Double(e.weight_bytes));
  j.Set("state_bytes", JsonValue::Double(e.state_bytes));
  j.Set("ddr_bytes_per_soc", JsonValue::Double(e.ddr_bytes_per_soc));
  JsonValue calls = JsonValue::Array();
  for (const CallEstimate& c : e.calls) {
    JsonValue o = JsonValue::Object();
    o.Set("specialization", JsonValue::String(c.specialization));
    o.Set("batch_size", JsonValue::Int(c.batch_size));
    o.Set("seq_len", JsonValue::Int(c.seq_len));
    o.Set("seconds", JsonValue::Double(c.seconds));
    o.Set("tokens_per_s", JsonValue::Double(c.tokens_per_s));
    o.Set("compute_s", JsonValue::Double(c.compute_s));
    o.Set("memory_s", JsonValue::Double(c.memory_s));
    o.Set("link_s", JsonValue::Double(c.link_s));
    o.Set("bound", JsonValue::String(c.bound));
    calls.Append(std::move(o));
  }
  j.Set("calls", std::move(calls));
  return base::WriteJson(j);
}

absl::StatusOr<ModelledRun> ModelledRunFromJson(absl::string_view json,
                                                int64_t prompt_len) {
  QEFF_ASSIGN_OR_RETURN(base::JsonValue j, base::ParseJson(json));
  const base::JsonValue* dev = j.is_object() ? j.Find("device") : nullptr;
  const base::JsonValue* calls = j.is_object() ? j.Find("calls") : nullptr;
  if (!dev || !dev->is_string() || !calls || !calls->is_array())
    return absl::InvalidArgumentError(
        "not a sim report (needs \"device\" and \"calls\")");
  auto num = [](const base::JsonValue* o, const char* k) {
    const base::JsonValue* v = o && o->is_object() ? o->Find(k) : nullptr;
    return v && v->is_number() ? v->number() : 0.0;
  };
  ModelledRun r;
  r.device = dev->string_value();
  const base::JsonValue* pl = j.Find("placement");
  r.num_cores = static_cast<int>(num(pl, "num_cores"));
  r.num_devices = static_cast<int>(num(pl, "num_devices"));
  for (const base::JsonValue& c : calls->array()) {
    CallEstimate e;
    const base::JsonValue* name =
        c.is_object() ? c.Find("specialization") : nullptr;
    const base::JsonValue* bound = c.is_object() ? c.Find("bound") : nullptr;
    if (name && name->is_string()) e.specialization = name->string_value();
    if (bound && bound->is_string()) e.bound = bound->string_value();
    e.batch_size = static_cast<int64_t>(num(&c, "batch_size"));
    e.seq_len = static_cast<int64_t>(num(&c, "seq_len"));
    e.seconds = num(&c, "seconds");
    e.tokens_per_s = num(&c, "tokens_per_s");
    e.compute_s = num(&c, "compute_s");
    e.memory_s = num(&c, "memory_s");
    e.link_s = num(&c, "link_s");
    if (e.specialization == "Prefill")
      r.ttft_s = TimeToFirstToken(e, prompt_len);
    if (e.specialization == "Decode") r.decode_tokens_per_s = e.tokens_per_s;
    r.calls.push_back(std::move(e));
  }
  return r;
}

}  // namespace qeff::hw::sim
