// Planning on Cloud AI 100 cards with the `sim` performance model
// (hw/sim/ai100_model.h), two ways:
//  - PlanModel: a loaded model's transformed graph, specialized as
//    CompileParams say (shapes only; nothing is compiled or run);
//  - PlanFromConfig: a Hugging Face config.json alone (QEfficient's
//    from_pretrained minus the weights), so a 70 B model costs nothing to
//    plan. The workload is computed from the config's shapes with the same
//    quantities WorkloadOfGraph reads from the graph; sim_plan_test checks
//    that the two agree on models of every family built both ways.
// Families: the Llama family (llama, mistral, qwen2) and gpt2.
#ifndef QEFF_ENGINE_SIM_PLAN_H_
#define QEFF_ENGINE_SIM_PLAN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/qeff_auto_model.h"
#include "hw/sim/ai100_model.h"
#include "hw/specialization.h"
#include "models/arch/registry.h"

namespace qeff::engine {

// The config-only load path: config.json (a file, or a folder holding one)
// parsed as from_pretrained parses it; no weights are looked for.
absl::StatusOr<models::ModelConfig> ModelConfigFromFile(
    const std::string& path);

// The specializations `params` mean for a causal LM (params.specializations
// when given).
std::vector<hw::Specialization> PlanSpecializations(const CompileParams& p);

// What each specialization does, from the config's shapes: the
// transformed graph's MatMuls (Linear layers, attention over ctx_len, the
// lm_head on the last position unless `all_logits`), its constants and its
// retained KV cache.
absl::StatusOr<std::vector<hw::sim::Workload>> WorkloadsOfConfig(
    const models::ModelConfig& config,
    const std::vector<hw::Specialization>& specs, bool all_logits = false);

// The placement `params` ask for (num_cores, num_devices, mxfp6_matmul,
// mxint8_kv_cache).
hw::sim::Placement PlacementOf(const CompileParams& params);

absl::StatusOr<hw::sim::Estimate> PlanFromConfig(
    const models::ModelConfig& config, const CompileParams& params,
    const hw::sim::Ai100Sku& sku);

absl::StatusOr<hw::sim::Estimate> PlanModel(QEFFBaseModel& model,
                                            const CompileParams& params,
                                            const hw::sim::Ai100Sku& sku);

// One cell of a planning sweep: a SKU and compile parameters, with the
// estimate (or why it cannot run: does not fit, bad placement) and the
// figures a ranking reads.
struct PlanCell {
  std::string sku;
  CompileParams params;
  absl::Status status;  // OK when the estimate exists
  hw::sim::Estimate estimate;
  double ttft_s = 0;  // prompt of prompt_len tokens
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;  // all rows of the Decode specialization
  double decode_ms_per_token = 0;  // one Decode call
};

// The cross product skus x params, each planned from `config`; TTFT for a
// prompt of `prompt_len` tokens. Cells are returned ranked: runnable ones
// by decode tokens/s, then TTFT, then fewer cards; then the ones that
// cannot run.
std::vector<PlanCell> PlanGrid(const models::ModelConfig& config,
                               const std::vector<std::string>& skus,
                               const std::vector<CompileParams>& params,
                               int64_t prompt_len);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_SIM_PLAN_H_
