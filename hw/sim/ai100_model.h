// A performance model of Qualcomm Cloud AI 100 cards (Standard, Pro,
// Ultra): what one call of a specialization would cost on a card, from the
// specialized graph's shapes alone (no weights are read). It does not run
// anything and knows nothing a vendor did not publish; every constant is in
// Ai100Skus() with its source, and every assumption is listed here.
//
// The model (one call of one specialization, placed on `num_devices` SoCs
// with `num_cores` AI cores each):
//   compute_s = flops / (num_devices * fp16_flops_per_soc * num_cores /
//                        cores_per_soc)
//     flops: 2*M*K*N of every MatMul/Gemm (Linear layers and attention),
//     at the FP16 rate: -convert-to-fp16 runs the graph in fp16 and MXFP6
//     is a storage format (weights are expanded to fp16 in the core), so
//     the INT8 rate is never used for these graphs.
//   memory_s = ddr_bytes / (num_devices * ddr_bytes_per_s_per_soc)
//     ddr_bytes: the MatMul weights that do not stay resident in on-chip
//     SRAM (weights beyond num_devices * sram_bytes_per_soc stream from DDR
//     every call), the whole retained state (KV cache) read, and the
//     positions written (seq_len of ctx_len of it). With continuous
//     batching a prefill touches one slot's rows but is charged the whole
//     cache (an overestimate; prefill is weight- or compute-bound anyway).
//   link_s (num_devices > 1, tensor slicing): two all-reduces per layer of
//     the [M, hidden] fp16 activations, ring algorithm:
//     2 * layers * 2*(n-1)/n * M*hidden*2 bytes / link_bytes_per_s.
//   seconds = max(compute_s, memory_s) + link_s (compute and DDR overlap;
//   the link does not).
// Bytes per element: fp16 2; MXFP6 weights 6.25 bits (6-bit elements and
// one 8-bit scale per 32: OCP Microscaling Formats v1.0); MXINT8 KV 8.25
// bits (the same block layout, 8-bit elements). Other constants (embedding
// tables, norms) are fp16 and count in the DDR footprint, not the traffic.
// Footprint per SoC = (all constants + retained state) / num_devices; it
// must fit the SoC's DDR.
// Not modelled (the figures it gives are bounds, not predictions): kernel
// efficiency below peak, the compiler's SRAM use for activations, DDR
// refresh and contention, the host link for inputs/outputs, per-call
// launch overhead, pipeline (vs tensor) splitting, INT8 graphs.
#ifndef QEFF_HW_SIM_AI100_MODEL_H_
#define QEFF_HW_SIM_AI100_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hw/specialization.h"
#include "ir/graph.h"

namespace qeff::hw::sim {

// One card type, per SoC (Ultra has 4 SoCs on a card).
struct Ai100Sku {
  std::string name;  // "ai100-standard", "ai100-pro", "ai100-ultra"
  int socs_per_card = 1;
  int cores_per_soc = 0;
  double ddr_bytes_per_soc = 0;
  double ddr_bytes_per_s_per_soc = 0;
  double sram_bytes_per_soc = 0;
  double fp16_flops_per_soc = 0;
  double int8_ops_per_soc = 0;
  double vtcm_bytes_per_core = 0;
  // Between SoCs of one card and between cards (see ai100_model.cc).
  double link_bytes_per_s = 0;
};

// The three SKUs (DESIGN.md "Devices"), sources in ai100_model.cc.
const std::vector<Ai100Sku>& Ai100Skus();
// By name ("ai100-ultra"); an unknown name lists the known ones.
absl::StatusOr<Ai100Sku> FindSku(absl::string_view name);

// What one call of a specialization does, in elements and operations.
struct Workload {
  std::string specialization;
  int64_t batch_size = 0;  // first dim of input_ids
  int64_t seq_len = 0;     // second dim of input_ids
  double matmul_flops = 0;
  double matmul_weight_elements = 0;  // constants feeding MatMul/Gemm
  double other_constant_elements = 0;
  double state_elements = 0;        // all retained state (KV cache)
  double state_write_fraction = 0;  // seq_len / ctx_len (1 without ctx_len)
  int64_t layers = 0;               // retained-state inputs / 2
  int64_t hidden_size = 0;          // K of the first weight MatMul
  // Routed experts (MoE ops; their FLOPs, top_k experts' FFNs per row, are in
  // matmul_flops): every expert's weights, which the card stores, and the
  // part one call is expected to read (ExpertsReadFraction of them).
  double expert_weight_elements = 0;
  double expert_weight_elements_read = 0;
};

// The expected fraction of E experts a call of `rows` rows reads when each
// row picks top_k of them uniformly at random: 1 - (1 - top_k / E)^rows (an
// expert is read once per call when any row routes to it). A modelling
// assumption: real routers are not uniform.
double ExpertsReadFraction(int64_t experts, int64_t top_k, double rows);

// From a graph (after transform_lm: retained state X / X_RetainedState)
// bound to `spec`; shapes are inferred on a copy first. A MatMul whose shapes
// do not resolve under the specialization is an error naming the node.
absl::StatusOr<Workload> WorkloadOfGraph(const ir::Graph& graph,
                                         const Specialization& spec);

// Where and how the program runs.
struct Placement {
  int num_cores = 0;    // per SoC; 0: all of the SoC's cores
  int num_devices = 1;  // SoCs (tensor slicing), across cards when needed
  bool mxfp6_matmul = false;
  bool mxint8_kv_cache = false;
};

struct CallEstimate {
  std::string specialization;
  int64_t batch_size = 0, seq_len = 0;
  double flops = 0, ddr_bytes = 0, link_bytes = 0;
  double compute_s = 0, memory_s = 0, link_s = 0;
  double seconds = 0;
  double tokens_per_s = 0;  // batch_size * seq_len / seconds
  std::string bound;        // "compute", "memory"
};

struct Estimate {
  Ai100Sku sku;
  Placement placement;  // num_cores resolved
  int cards = 1;
  double weight_bytes = 0;          // all constants, stored
  double state_bytes = 0;           // retained state, stored
  double ddr_bytes_per_soc = 0;     // footprint per SoC
  std::vector<CallEstimate> calls;  // one per specialization
};

// The estimate of every workload on `sku` placed as `placement`. A program
// that does not fit the SoCs' DDR is ResourceExhausted naming the bytes
// needed, available and short; num_cores above the SoC's is
// InvalidArgument.
absl::StatusOr<Estimate> EstimateWorkloads(
    const std::vector<Workload>& workloads, const Ai100Sku& sku,
    const Placement& placement);

// Time to first token for a prompt of `prompt_len` tokens: QEfficient's
// chunked prefill, ceil(prompt_len / seq_len) calls of `prefill`.
double TimeToFirstToken(const CallEstimate& prefill, int64_t prompt_len);

// The estimate as JSON: {"device":"sim:ai100-ultra","placement":{...},
// "ddr_bytes_per_soc":..,"calls":[{"specialization":..,"seconds":..}]}.
std::string EstimateToJson(const Estimate& e);

// What a report of EstimateToJson (a sim program's PerformanceReportJson)
// says about a run: the device, each call's modelled seconds and tokens/s,
// TTFT for a prompt of `prompt_len` tokens and the Decode rate. A report
// that is not one is InvalidArgument.
struct ModelledRun {
  std::string device;  // "sim:ai100-ultra"
  int num_cores = 0, num_devices = 0;
  std::vector<CallEstimate> calls;  // specialization, batch, seq_len,
                                    // seconds, tokens_per_s, bound
  double ttft_s = 0;                // 0 without a Prefill call
  double decode_tokens_per_s = 0;   // 0 without a Decode call
};
absl::StatusOr<ModelledRun> ModelledRunFromJson(absl::string_view json,
                                                int64_t prompt_len);

}  // namespace qeff::hw::sim

#endif  // QEFF_HW_SIM_AI100_MODEL_H_
