#include "engine/sim_plan.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/hf_config.h"

namespace qeff::engine {
namespace {

int64_t Symbol(const hw::Specialization& s, const char* name, int64_t dflt) {
  auto it = s.symbols.find(name);
  return it == s.symbols.end() ? dflt : it->second;
}

// Shapes of one decoder family, the part of a workload that does not depend
// on the specialization.
struct FamilyShapes {
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int64_t vocab = 0;
  double layer_weights = 0;  // MatMul weight elements per layer
  double layer_other = 0;    // biases and norms per layer
  double other = 0;          // embeddings, final norm, position tables
  bool tied = false;         // lm_head is the embedding table
  // Beyond layers x layer_weights: routers and the dense FFNs of the layers
  // without experts (MatMul weights, all layers together).
  double extra_weights = 0;
  // Routed experts: MoE layers, experts per layer, experts per token, the
  // hidden and expert FFN sizes (each expert: gate, up [F, H], down [H, F]).
  int64_t moe_layers = 0, experts = 0, top_k = 0, expert_ffn = 0;
};

absl::StatusOr<FamilyShapes> ShapesOf(const models::ModelConfig& c) {
  FamilyShapes f;
  if (c.family == models::ModelFamily::kLlama) {
    const models::LlamaConfig& l = c.llama;
    QEFF_RETURN_IF_ERROR(l.Validate());
    const int64_t h = l.hidden_size, d = l.HeadDim();
    const int64_t nh = l.num_attention_heads, nkv = l.num_key_value_heads;
    const int64_t i = l.intermediate_size;
    f.layers = l.num_hidden_layers;
    f.hidden = h;
    f.heads = nh;
    f.kv_heads = nkv;
    f.head_dim = d;
    f.vocab = l.vocab_size;
    f.layer_weights = static_cast<double>(h * nh * d + 2 * h * nkv * d +
                                          nh * d * h + 3 * h * i);
    f.layer_other =
        static_cast<double>(2 * h + (l.qkv_bias ? (nh + 2 * nkv) * d : 0) +
                            (l.o_bias ? h : 0) + (l.mlp_bias ? 2 * i + h : 0));
    f.tied = l.tie_word_embeddings;
    f.other = static_cast<double>(h) + static_cast<double>(l.vocab_size * h);
    if (l.num_experts > 0) {
      // Attention in every layer; a router and experts in the MoE layers,
      // a dense FFN in the others.
      f.layer_weights =
          static_cast<double>(h * nh * d + 2 * h * nkv * d + nh * d * h);
      for (int64_t layer = 0; layer < l.num_hidden_layers; ++layer) {
        if (l.LayerIsMoE(layer)) {
          ++f.moe_layers;
          f.extra_weights += static_cast<double>(l.num_experts * h);
        } else {
          f.extra_weights += static_cast<double>(3 * h * i);
        }
      }
      f.experts = l.num_experts;
      f.top_k = l.num_experts_per_tok;
      f.expert_ffn = l.moe_intermediate_size ? l.moe_intermediate_size : i;
    }
    return f;
  }
  if (c.family == models::ModelFamily::kGemma3) {
    const models::Gemma3Config& g = c.gemma3;
    QEFF_RETURN_IF_ERROR(g.Validate());
    const int64_t h = g.hidden_size, d = g.head_dim;
    const int64_t nh = g.num_attention_heads, nkv = g.num_key_value_heads;
    const int64_t i = g.intermediate_size;
    f.layers = g.num_hidden_layers;
    f.hidden = h;
    f.heads = nh;
    f.kv_heads = nkv;
    f.head_dim = d;
    f.vocab = g.vocab_size;
    f.layer_weights = static_cast<double>(h * nh * d + 2 * h * nkv * d +
                                          nh * d * h + 3 * h * i);
    // Four RMSNorms over the hidden size and the Q/K norms over head_dim.
    f.layer_other = static_cast<double>(4 * h + 2 * d);
    f.tied = g.tie_word_embeddings;
    f.other = static_cast<double>(h) + static_cast<double>(g.vocab_size * h);
    return f;
  }
  if (c.family == models::ModelFamily::kLlama4) {
    return absl::UnimplementedError(
        "sim: llama4 models (interleaved dense and MoE layers with a shared "
        "expert) are not modelled yet");
  }
  if (c.family == models::ModelFamily::kGrok) {
    const models::GrokConfig& g = c.grok;
    QEFF_RETURN_IF_ERROR(g.Validate());
    const int64_t h = g.hidden_size, d = g.head_dim;
    const int64_t nh = g.num_attention_heads, nkv = g.num_key_value_heads;
    f.layers = g.num_hidden_layers;
    f.hidden = h;
    f.heads = nh;
    f.kv_heads = nkv;
    f.head_dim = d;
    f.vocab = g.vocab_size;
    // Attention and the router; experts in every layer.
    f.layer_weights = static_cast<double>(h * nh * d + 2 * h * nkv * d +
                                          nh * d * h + g.num_experts * h);
    f.layer_other = static_cast<double>(4 * h);  // four RMSNorms
    f.tied = g.tie_word_embeddings;
    f.other = static_cast<double>(h) + static_cast<double>(g.vocab_size * h);
    f.moe_layers = g.num_hidden_layers;
    f.experts = g.num_experts;
    f.top_k = g.num_experts_per_tok;
    f.expert_ffn = g.intermediate_size;
    return f;
  }
  if (c.family != models::ModelFamily::kGpt2) {
    return absl::UnimplementedError(
        absl::StrCat("sim: model_type '", c.model_type,
                     "' is not a decoder the sim models"));
  }
  const models::Gpt2Config& g = c.gpt2;
  QEFF_RETURN_IF_ERROR(g.Validate());
  const int64_t h = g.n_embd, i = g.Inner();
  f.layers = g.n_layer;
  f.hidden = h;
  f.heads = f.kv_heads = g.n_head;
  f.head_dim = g.HeadDim();
  f.vocab = g.vocab_size;
  f.layer_weights = static_cast<double>(3 * h * h + h * h + 2 * h * i);
  // c_attn, c_proj, c_fc, mlp c_proj biases and two LayerNorms.
  f.layer_other = static_cast<double>(3 * h + h + i + h + 4 * h);
  f.tied = true;
  f.other = static_cast<double>(2 * h + g.vocab_size * h + g.n_positions * h);
  return f;
}

}  // namespace

absl::StatusOr<models::ModelConfig> ModelConfigFromFile(
    const std::string& path) {
  std::string file = path;
  if (std::filesystem::is_directory(path)) file = path + "/config.json";
  QEFF_ASSIGN_OR_RETURN(base::JsonValue j, models::ReadJsonFile(file));
  return models::ParseHfModelConfig(j, file);
}

std::vector<hw::Specialization> PlanSpecializations(const CompileParams& p) {
  if (p.specializations) return *p.specializations;
  return hw::CausalLMSpecializations(p.prefill_seq_len, p.ctx_len, p.batch_size,
                                     p.full_batch_size);
}

absl::StatusOr<std::vector<hw::sim::Workload>> WorkloadsOfConfig(
    const models::ModelConfig& config,
    const std::vector<hw::Specialization>& specs, bool all_logits) {
  QEFF_ASSIGN_OR_RETURN(FamilyShapes f, ShapesOf(config));
  std::vector<hw::sim::Workload> out;
  for (const hw::Specialization& s : specs) {
    hw::sim::Workload w;
    w.specialization = s.name;
    w.batch_size = Symbol(s, "batch_size", 0);
    w.seq_len = Symbol(s, "seq_len", 0);
    const int64_t ctx = Symbol(s, "ctx_len", 0);
    const int64_t fbs = Symbol(s, "full_batch_size", 0);
    if (w.batch_size <= 0 || w.seq_len <= 0 || ctx <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("specialization '", s.name,
                       "' needs positive batch_size, seq_len and ctx_len"));
    const double b = static_cast<double>(w.batch_size);
    const double m = b * static_cast<double>(w.seq_len);
    const double logit_rows = all_logits ? m : b;
    // Linear layers, attention (QK^T and PV over the whole cache, per query
    // head), the lm_head.
    const double expert_elems =
        3.0 * static_cast<double>(f.hidden * f.expert_ffn);  // one expert
    w.matmul_flops =
        f.layers * (2.0 * m * f.layer_weights +
                    4.0 * m * f.heads * static_cast<double>(ctx) * f.head_dim) +
        2.0 * m * f.extra_weights +
        f.moe_layers * 2.0 * m * static_cast<double>(f.top_k) * expert_elems +
        2.0 * logit_rows * static_cast<double>(f.vocab) * f.hidden;
    w.matmul_weight_elements = f.layers * f.layer_weights + f.extra_weights +
                               static_cast<double>(f.vocab) * f.hidden;
    w.expert_weight_elements =
        f.moe_layers * static_cast<double>(f.experts) * expert_elems;
    w.expert_weight_elements_read =
        w.expert_weight_elements *
        hw::sim::ExpertsReadFraction(f.experts, f.top_k, m);
    w.other_constant_elements =
        f.layers * f.layer_other + f.other -
        (f.tied ? static_cast<double>(f.vocab) * f.hidden : 0.0);
    const double state_batch =
        static_cast<double>(fbs > 0 ? fbs : w.batch_size);
    w.state_elements = 2.0 * f.layers * state_batch * f.kv_heads *
                       static_cast<double>(ctx) * f.head_dim;
    w.state_write_fraction =
        std::min(1.0, static_cast<double>(w.seq_len) / ctx);
    w.layers = f.layers;
    w.hidden_size = f.hidden;
    out.push_back(std::move(w));
  }
  return out;
}

hw::sim::Placement PlacementOf(const CompileParams& params) {
  hw::sim::Placement p;
  p.num_cores = params.num_cores;
  p.num_devices = params.num_devices;
  p.mxfp6_matmul =
      params.mxfp6_matmul || params.weight_format == ir::QuantFormat::kMXFP6;
  p.mxint8_kv_cache = params.mxint8_kv_cache;
  return p;
}

absl::StatusOr<hw::sim::Estimate> PlanFromConfig(
    const models::ModelConfig& config, const CompileParams& params,
    const hw::sim::Ai100Sku& sku) {
  QEFF_ASSIGN_OR_RETURN(std::vector<hw::sim::Workload> w,
                        WorkloadsOfConfig(config, PlanSpecializations(params)));
  return hw::sim::EstimateWorkloads(w, sku, PlacementOf(params));
}

absl::StatusOr<hw::sim::Estimate> PlanModel(QEFFBaseModel& model,
                                            const CompileParams& params,
                                            const hw::sim::Ai100Sku& sku) {
  QEFF_RETURN_IF_ERROR(model.Transform());
  std::vector<hw::sim::Workload> w;
  for (const hw::Specialization& s : PlanSpecializations(params)) {
    QEFF_ASSIGN_OR_RETURN(
        hw::sim::Workload one,
        hw::sim::WorkloadOfGraph(model.transformed_graph(), s));
    w.push_back(std::move(one));
  }
  return hw::sim::EstimateWorkloads(w, sku, PlacementOf(params));
}

std::vector<PlanCell> PlanGrid(const models::ModelConfig& config,
                               const std::vector<std::string>& skus,
                               const std::vector<CompileParams>& params,
                               int64_t prompt_len) {
  std::vector<PlanCell> cells;
  for (const std::string& name : skus) {
    for (const CompileParams& p : params) {
      PlanCell c;
      c.sku = name;
      c.params = p;
      auto sku = hw::sim::FindSku(name);
      auto est = sku.ok() ? PlanFromConfig(config, p, *sku)
                          : absl::StatusOr<hw::sim::Estimate>(sku.status());
      if (!est.ok()) {
        c.status = est.status();
      } else {
        c.estimate = *std::move(est);
        for (const hw::sim::CallEstimate& call : c.estimate.calls) {
          if (call.specialization == "Prefill") {
            c.ttft_s = hw::sim::TimeToFirstToken(call, prompt_len);
            c.prefill_tokens_per_s = call.tokens_per_s;
          } else if (call.specialization == "Decode") {
            c.decode_tokens_per_s = call.tokens_per_s;
            c.decode_ms_per_token = 1e3 * call.seconds;
          }
        }
      }
      cells.push_back(std::move(c));
    }
  }
  std::stable_sort(cells.begin(), cells.end(),
                   [](const PlanCell& a, const PlanCell& b) {
                     if (a.status.ok() != b.status.ok()) return a.status.ok();
                     if (a.decode_tokens_per_s != b.decode_tokens_per_s)
                       return a.decode_tokens_per_s > b.decode_tokens_per_s;
                     if (a.ttft_s != b.ttft_s) return a.ttft_s < b.ttft_s;
                     return a.estimate.cards < b.estimate.cards;
                   });
  return cells;
}

}  // namespace qeff::engine
