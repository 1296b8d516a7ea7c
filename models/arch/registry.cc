#include "models/arch/registry.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace qeff::models {

const std::vector<ArchInfo>& SupportedArchitectures() {
  static const auto* kArchs = new std::vector<ArchInfo>{
      {"llama", "LlamaForCausalLM", ModelFamily::kLlama, {"llama"}},
      {"mistral", "MistralForCausalLM", ModelFamily::kLlama, {}},
      {"qwen2", "Qwen2ForCausalLM", ModelFamily::kLlama, {"qwen2"}},
      {"gpt2", "GPT2LMHeadModel", ModelFamily::kGpt2, {"gpt2"}},
      {"gemma3_text", "Gemma3ForCausalLM", ModelFamily::kGemma3, {"gemma3"}},
      {"gemma3", "Gemma3ForConditionalGeneration", ModelFamily::kGemma3, {}},
      {"qwen3", "Qwen3ForCausalLM", ModelFamily::kLlama, {"qwen3"}},
      {"mixtral", "MixtralForCausalLM", ModelFamily::kLlama, {}},
      {"qwen3_moe", "Qwen3MoeForCausalLM", ModelFamily::kLlama, {"qwen3moe"}},
      {"phi3", "Phi3ForCausalLM", ModelFamily::kLlama, {"phi3"}},
      {"grok-1", "Grok1ModelForCausalLM", ModelFamily::kGrok, {"grok"}},
      {"wav2vec2", "Wav2Vec2ForCTC", ModelFamily::kWav2Vec2, {}},
      {"wav2vec2",
       "Wav2Vec2ForSequenceClassification",
       ModelFamily::kWav2Vec2,
       {}},
      {"hubert", "HubertForCTC", ModelFamily::kWav2Vec2, {}},
      {"hubert", "HubertForSequenceClassification", ModelFamily::kWav2Vec2, {}},
      {"bert", "BertModel", ModelFamily::kBert, {"bert"}},
      {"nomic_bert", "NomicBertModel", ModelFamily::kNomicBert, {"nomic-bert"}},
      {"llama4_text", "Llama4ForCausalLM", ModelFamily::kLlama4, {"llama4"}},
      {"llama4", "Llama4ForConditionalGeneration", ModelFamily::kLlama4, {}},
  };
  return *kArchs;
}

std::string SupportedArchitecturesText() {
  std::vector<std::string> parts;
  for (const ArchInfo& a : SupportedArchitectures())
    parts.push_back(absl::StrCat(a.model_type, " (", a.architecture, ")"));
  return absl::StrJoin(parts, ", ");
}

void FillCommon(ModelConfig* m) {
  if (m->family == ModelFamily::kLlama) {
    const LlamaConfig& c = m->llama;
    m->vocab_size = c.vocab_size;
    m->hidden_size = c.hidden_size;
    m->num_hidden_layers = c.num_hidden_layers;
    m->num_attention_heads = c.num_attention_heads;
    m->num_key_value_heads = c.num_key_value_heads;
    m->head_dim = c.num_attention_heads > 0 ? c.HeadDim() : 0;
    m->max_position_embeddings = c.max_position_embeddings;
  } else if (m->family == ModelFamily::kGemma3) {
    const Gemma3Config& c = m->gemma3;
    m->vocab_size = c.vocab_size;
    m->hidden_size = c.hidden_size;
    m->num_hidden_layers = c.num_hidden_layers;
    m->num_attention_heads = c.num_attention_heads;
    m->num_key_value_heads = c.num_key_value_heads;
    m->head_dim = c.head_dim;
    m->max_position_embeddings = c.max_position_embeddings;
  } else if (m->family == ModelFamily::kLlama4) {
    const Llama4Config& c = m->llama4;
    m->vocab_size = c.vocab_size;
    m->hidden_size = c.hidden_size;
    m->num_hidden_layers = c.num_hidden_layers;
    m->num_attention_heads = c.num_attention_heads;
    m->num_key_value_heads = c.num_key_value_heads;
    m->head_dim = c.head_dim;
    m->max_position_embeddings = c.max_position_embeddings;
  } else if (m->family == ModelFamily::kGrok) {
    const GrokConfig& c = m->grok;
    m->vocab_size = c.vocab_size;
    m->hidden_size = c.hidden_size;
    m->num_hidden_layers = c.num_hidden_layers;
    m->num_attention_heads = c.num_attention_heads;
    m->num_key_value_heads = c.num_key_value_heads;
    m->head_dim = c.head_dim;
    m->max_position_embeddings = c.max_position_embeddings;
  } else if (m->family == ModelFamily::kWav2Vec2) {
    const Wav2Vec2Config& c = m->wav2vec2;
    m->vocab_size = c.ctc ? c.vocab_size : c.num_labels;
    m->hidden_size = c.hidden_size;
    m->num_hidden_layers = c.num_hidden_layers;
    m->num_attention_heads = m->num_key_value_heads = c.num_attention_heads;
    m->head_dim = c.num_attention_heads > 0 ? c.HeadDim() : 0;
  } else if (m->family == ModelFamily::kNomicBert) {
    const NomicBertConfig& c = m->nomic_bert;
    m->vocab_size = c.vocab_size;
    m->hidden_size = c.hidden_size;
    m->num_hidden_layers = c.num_hidden_layers;
    m->num_attention_heads = c.num_attention_heads;
    m->num_key_value_heads = c.num_attention_heads;
    m->head_dim = c.num_attention_heads > 0 ? c.HeadDim() : 0;
    m->max_position_embeddings = c.max_position_embeddings;
  } else if (m->family == ModelFamily::kBert) {
    const BertConfig& c = m->bert;
    m->vocab_size = c.vocab_size;
    m->hidden_size = c.hidden_size;
    m->num_hidden_layers = c.num_hidden_layers;
    m->num_attention_heads = c.num_attention_heads;
    m->num_key_value_heads = c.num_attention_heads;
    m->head_dim = c.num_attention_heads > 0 ? c.HeadDim() : 0;
    m->max_position_embeddings = c.max_position_embeddings;
  } else {
    const Gpt2Config& c = m->gpt2;
    m->vocab_size = c.vocab_size;
    m->hidden_size = c.n_embd;
    m->num_hidden_layers = c.n_layer;
    m->num_attention_heads = c.n_head;
    m->num_key_value_heads = c.n_head;
    m->head_dim = c.n_head > 0 ? c.HeadDim() : 0;
    m->max_position_embeddings = c.n_positions;
  }
}

ModelConfig FromLlamaConfig(const LlamaConfig& c, std::string model_type) {
  ModelConfig m;
  m.family = ModelFamily::kLlama;
  m.model_type = std::move(model_type);
  for (const ArchInfo& a : SupportedArchitectures())
    if (a.model_type == m.model_type) m.architecture = a.architecture;
  m.llama = c;
  FillCommon(&m);
  return m;
}

ModelConfig FromGemma3Config(const Gemma3Config& c) {
  ModelConfig m;
  m.family = ModelFamily::kGemma3;
  m.model_type = "gemma3_text";
  m.architecture = "Gemma3ForCausalLM";
  m.gemma3 = c;
  FillCommon(&m);
  return m;
}

ModelConfig FromLlama4Config(const Llama4Config& c) {
  ModelConfig m;
  m.family = ModelFamily::kLlama4;
  m.model_type = "llama4_text";
  m.architecture = "Llama4ForCausalLM";
  m.llama4 = c;
  FillCommon(&m);
  return m;
}

ModelConfig FromGrokConfig(const GrokConfig& c) {
  ModelConfig m;
  m.family = ModelFamily::kGrok;
  m.model_type = "grok-1";
  m.architecture = "Grok1ModelForCausalLM";
  m.grok = c;
  FillCommon(&m);
  return m;
}

namespace {

// A family config's Validate() result, its message prefixed by the file.
absl::Status ValidatedIn(const std::string& source, const absl::Status& st) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(source, ": ", st.message()));
}

// Typed field access with errors naming the file and field.
class Fields {
 public:
  Fields(const base::JsonValue& j, const std::string& source)
      : j_(j), source_(source) {}

  absl::Status Error(absl::string_view field, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": field '", field, "' ", what));
  }
  const base::JsonValue* Get(absl::string_view f) const {
    const base::JsonValue* v = j_.Find(f);
    return (v && !v->is_null()) ? v : nullptr;
  }
  absl::StatusOr<int64_t> Int(absl::string_view f) const {
    const base::JsonValue* v = Get(f);
    if (!v) return Error(f, "is missing");
    auto i = v->AsInt64();
    if (!i.ok()) return Error(f, i.status().message());
    return *i;
  }
  absl::StatusOr<int64_t> Int(absl::string_view f, int64_t def) const {
    if (!Get(f)) return def;
    return Int(f);
  }
  absl::StatusOr<float> Float(absl::string_view f, float def) const {
    const base::JsonValue* v = Get(f);
    if (!v) return def;
    if (!v->is_number()) return Error(f, "is not a number");
    return static_cast<float>(v->number());
  }
  absl::StatusOr<bool> Bool(absl::string_view f, bool def) const {
    const base::JsonValue* v = Get(f);
    if (!v) return def;
    if (!v->is_bool()) return Error(f, "is not a boolean");
    return v->bool_value();
  }
  absl::StatusOr<std::string> String(absl::string_view f,
                                     std::string def) const {
    const base::JsonValue* v = Get(f);
    if (!v) return def;
    if (!v->is_string()) return Error(f, "is not a string");
    return v->string_value();
  }

 private:
  const base::JsonValue& j_;
  const std::string& source_;
};

absl::StatusOr<RopeScaling> ParseRopeScaling(const base::JsonValue* j,
                                             const std::string& source) {
  RopeScaling r;
  if (j == nullptr || j->is_null()) return r;
  if (!j->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": field 'rope_scaling' is not an object"));
  }
  Fields f(*j, source);
  QEFF_ASSIGN_OR_RETURN(std::string type, f.String("rope_type", ""));
  if (type.empty()) {
    QEFF_ASSIGN_OR_RETURN(type, f.String("type", ""));
  }
  if (type == "default" || type.empty()) return r;
  if (type == "linear") {
    r.type = RopeScaling::Type::kLinear;
  } else if (type == "dynamic") {
    r.type = RopeScaling::Type::kDynamic;
  } else if (type == "llama3") {
    r.type = RopeScaling::Type::kLlama3;
  } else if (type == "longrope" || type == "su") {
    r.type = RopeScaling::Type::kLongRope;
    auto floats = [&](const char* name,
                      std::vector<float>* out) -> absl::Status {
      const base::JsonValue* a = f.Get(name);
      if (a == nullptr || !a->is_array())
        return f.Error(absl::StrCat("rope_scaling.", name),
                       "is missing or not an array");
      for (const base::JsonValue& v : a->array()) {
        if (!v.is_number())
          return f.Error(absl::StrCat("rope_scaling.", name),
                         "holds a non-number");
        out->push_back(static_cast<float>(v.number()));
      }
      return absl::OkStatus();
    };
    QEFF_RETURN_IF_ERROR(floats("long_factor", &r.long_factor));
    QEFF_RETURN_IF_ERROR(floats("short_factor", &r.short_factor));
    // attention_factor and original_max_position_embeddings: see
    // ParseLlamaFamily (they may come from the top-level config).
    QEFF_ASSIGN_OR_RETURN(r.attention_factor, f.Float("attention_factor", 0));
    QEFF_ASSIGN_OR_RETURN(r.original_max_position_embeddings,
                          f.Int("original_max_position_embeddings", 0));
    return r;
  } else {
    return absl::UnimplementedError(absl::StrCat(
        source, ": rope_scaling type '", type,
        "' is not supported (supported: linear, dynamic, llama3, longrope)"));
  }
  if (!f.Get("factor")) return f.Error("rope_scaling.factor", "is missing");
  QEFF_ASSIGN_OR_RETURN(r.factor, f.Float("factor", 1.0f));
  if (r.type == RopeScaling::Type::kLlama3) {
    QEFF_ASSIGN_OR_RETURN(r.low_freq_factor, f.Float("low_freq_factor", 1.0f));
    QEFF_ASSIGN_OR_RETURN(r.high_freq_factor,
                          f.Float("high_freq_factor", 4.0f));
    QEFF_ASSIGN_OR_RETURN(r.original_max_position_embeddings,
                          f.Int("original_max_position_embeddings"));
  }
  return r;
}

// Phi3Config: fused qkv_proj / gate_up_proj, a sliding window on every
// layer. (Its longrope: FinishLongRope.)
absl::Status ParsePhi3(const Fields& f, LlamaConfig* c) {
  c->fused_qkv = c->fused_gate_up = true;
  QEFF_ASSIGN_OR_RETURN(float partial, f.Float("partial_rotary_factor", 1.0f));
  if (partial != 1.0f)
    return f.Error("partial_rotary_factor", "!= 1 is not supported");
  QEFF_ASSIGN_OR_RETURN(bool bias, f.Bool("attention_bias", false));
  if (bias) return f.Error("attention_bias", "= true is not supported");
  QEFF_ASSIGN_OR_RETURN(c->sliding_window, f.Int("sliding_window", 0));
  return absl::OkStatus();
}

// longrope as transformers' _compute_longrope_parameters: the top-level
// original_max_position_embeddings wins, and without an explicit
// attention_factor it is sqrt(1 + ln(s) / ln(original)) for s =
// max_position_embeddings / original > 1 (else 1).
absl::Status FinishLongRope(const Fields& f, LlamaConfig* c) {
  RopeScaling& r = c->rope_scaling;
  if (r.type != RopeScaling::Type::kLongRope) return absl::OkStatus();
  QEFF_ASSIGN_OR_RETURN(int64_t orig,
                        f.Int("original_max_position_embeddings",
                              r.original_max_position_embeddings));
  if (orig <= 0)
    return f.Error("original_max_position_embeddings",
                   "is missing (needed by longrope)");
  r.original_max_position_embeddings = orig;
  if (!(r.attention_factor > 0)) {
    const double s = static_cast<double>(c->max_position_embeddings) /
                     static_cast<double>(orig);
    r.attention_factor =
        s <= 1.0
            ? 1.0f
            : static_cast<float>(std::sqrt(
                  1.0 + std::log(s) / std::log(static_cast<double>(orig))));
  }
  return absl::OkStatus();
}

// Qwen3MoeConfig: experts in layer i unless i is in mlp_only_layers or
// (i + 1) % decoder_sparse_step != 0.
absl::Status ParseQwen3MoE(const Fields& f, LlamaConfig* c) {
  QEFF_ASSIGN_OR_RETURN(c->num_experts, f.Int("num_experts"));
  QEFF_ASSIGN_OR_RETURN(c->num_experts_per_tok, f.Int("num_experts_per_tok"));
  QEFF_ASSIGN_OR_RETURN(c->moe_intermediate_size,
                        f.Int("moe_intermediate_size"));
  QEFF_ASSIGN_OR_RETURN(c->norm_topk_prob, f.Bool("norm_topk_prob", false));
  QEFF_ASSIGN_OR_RETURN(int64_t step, f.Int("decoder_sparse_step", 1));
  if (step < 1) return f.Error("decoder_sparse_step", "must be >= 1");
  c->moe_style = "qwen";
  const int64_t n = std::max<int64_t>(c->num_hidden_layers, 0);
  c->moe_layers.assign(n, false);
  for (int64_t i = 0; i < n; ++i) c->moe_layers[i] = (i + 1) % step == 0;
  if (const base::JsonValue* only = f.Get("mlp_only_layers")) {
    if (!only->is_array()) return f.Error("mlp_only_layers", "is not an array");
    for (const base::JsonValue& v : only->array()) {
      auto i = v.AsInt64();
      if (!i.ok() || *i < 0 || *i >= n)
        return f.Error("mlp_only_layers", "holds an invalid layer index");
      c->moe_layers[*i] = false;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseLlamaFamily(const base::JsonValue& j,
                              const std::string& source, ModelConfig* m) {
  Fields f(j, source);
  LlamaConfig& c = m->llama;
  QEFF_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size"));
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size"));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size"));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.Int("num_hidden_layers"));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads, f.Int("num_attention_heads"));
  QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads,
                        f.Int("num_key_value_heads", c.num_attention_heads));
  QEFF_ASSIGN_OR_RETURN(c.head_dim, f.Int("head_dim", 0));
  QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps, f.Float("rms_norm_eps", 1e-6f));
  QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.Float("rope_theta", 10000.0f));
  QEFF_ASSIGN_OR_RETURN(c.tie_word_embeddings,
                        f.Bool("tie_word_embeddings", false));
  QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                        f.Int("max_position_embeddings", 2048));
  QEFF_ASSIGN_OR_RETURN(std::string act, f.String("hidden_act", "silu"));
  if (act != "silu") {
    return absl::UnimplementedError(absl::StrCat(
        source, ": hidden_act '", act, "' is not supported (supported: silu)"));
  }
  QEFF_ASSIGN_OR_RETURN(c.rope_scaling,
                        ParseRopeScaling(j.Find("rope_scaling"), source));
  if (m->model_type == "phi3") {
    QEFF_RETURN_IF_ERROR(ParsePhi3(f, &c));
  } else if (m->model_type == "llama") {
    QEFF_ASSIGN_OR_RETURN(bool attention_bias, f.Bool("attention_bias", false));
    c.qkv_bias = c.o_bias = attention_bias;
    QEFF_ASSIGN_OR_RETURN(c.mlp_bias, f.Bool("mlp_bias", false));
  } else if (m->model_type == "mistral") {
    QEFF_ASSIGN_OR_RETURN(c.sliding_window, f.Int("sliding_window", 0));
  } else if (m->model_type == "mixtral") {
    QEFF_ASSIGN_OR_RETURN(c.sliding_window, f.Int("sliding_window", 0));
    QEFF_ASSIGN_OR_RETURN(c.num_experts, f.Int("num_local_experts"));
    QEFF_ASSIGN_OR_RETURN(c.num_experts_per_tok, f.Int("num_experts_per_tok"));
    c.norm_topk_prob = true;  // MixtralSparseMoeBlock always renormalises
    c.moe_style = "mixtral";
  } else if (m->model_type == "qwen2" || m->model_type == "qwen3" ||
             m->model_type == "qwen3_moe") {
    if (m->model_type == "qwen3_moe") {
      QEFF_RETURN_IF_ERROR(ParseQwen3MoE(f, &c));
    }
    if (m->model_type == "qwen2") {
      c.qkv_bias = true;
    } else {  // qwen3, qwen3_moe
      c.qk_norm = true;
      QEFF_ASSIGN_OR_RETURN(c.qkv_bias, f.Bool("attention_bias", false));
      c.o_bias = c.qkv_bias;
    }
    QEFF_ASSIGN_OR_RETURN(bool use_window, f.Bool("use_sliding_window", false));
    if (use_window) {
      QEFF_ASSIGN_OR_RETURN(c.sliding_window, f.Int("sliding_window"));
      QEFF_ASSIGN_OR_RETURN(int64_t from,
                            f.Int("max_window_layers", c.num_hidden_layers));
      c.windowed_layers.assign(
          c.num_hidden_layers > 0 ? c.num_hidden_layers : 0, false);
      for (int64_t i = from; i < c.num_hidden_layers; ++i)
        c.windowed_layers[i] = true;
    }
  }
  QEFF_RETURN_IF_ERROR(FinishLongRope(f, &c));
  return ValidatedIn(source, c.Validate());
}

absl::Status ParseGpt2(const base::JsonValue& j, const std::string& source,
                       ModelConfig* m) {
  Fields f(j, source);
  Gpt2Config& c = m->gpt2;
  QEFF_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size"));
  QEFF_ASSIGN_OR_RETURN(c.n_positions, f.Int("n_positions"));
  QEFF_ASSIGN_OR_RETURN(c.n_embd, f.Int("n_embd"));
  QEFF_ASSIGN_OR_RETURN(c.n_layer, f.Int("n_layer"));
  QEFF_ASSIGN_OR_RETURN(c.n_head, f.Int("n_head"));
  QEFF_ASSIGN_OR_RETURN(c.n_inner, f.Int("n_inner", 0));
  QEFF_ASSIGN_OR_RETURN(c.layer_norm_epsilon,
                        f.Float("layer_norm_epsilon", 1e-5f));
  QEFF_ASSIGN_OR_RETURN(c.activation_function,
                        f.String("activation_function", "gelu_new"));
  QEFF_ASSIGN_OR_RETURN(c.scale_attn_weights,
                        f.Bool("scale_attn_weights", true));
  QEFF_ASSIGN_OR_RETURN(bool by_layer,
                        f.Bool("scale_attn_by_inverse_layer_idx", false));
  if (by_layer) {
    return absl::UnimplementedError(absl::StrCat(
        source, ": scale_attn_by_inverse_layer_idx = true is not supported"));
  }
  QEFF_ASSIGN_OR_RETURN(bool tie, f.Bool("tie_word_embeddings", true));
  if (!tie) {
    return absl::UnimplementedError(absl::StrCat(
        source, ": tie_word_embeddings = false is not supported for gpt2"));
  }
  return ValidatedIn(source, c.Validate());
}

absl::Status ParseBert(const base::JsonValue& j, const std::string& source,
                       ModelConfig* m) {
  Fields f(j, source);
  BertConfig& c = m->bert;
  QEFF_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size"));
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size"));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.Int("num_hidden_layers"));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads, f.Int("num_attention_heads"));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size"));
  QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                        f.Int("max_position_embeddings", 512));
  QEFF_ASSIGN_OR_RETURN(c.type_vocab_size, f.Int("type_vocab_size", 2));
  QEFF_ASSIGN_OR_RETURN(c.layer_norm_eps, f.Float("layer_norm_eps", 1e-12f));
  QEFF_ASSIGN_OR_RETURN(c.hidden_act, f.String("hidden_act", "gelu"));
  QEFF_ASSIGN_OR_RETURN(std::string pos,
                        f.String("position_embedding_type", "absolute"));
  if (pos != "absolute")
    return absl::UnimplementedError(
        absl::StrCat(source, ": position_embedding_type '", pos,
                     "' is not supported (supported: absolute)"));
  return ValidatedIn(source, c.Validate());
}

// nomic-ai's NomicBertConfig (configuration_hf_nomic_bert.py) names.
absl::Status ParseNomicBert(const base::JsonValue& j, const std::string& source,
                            ModelConfig* m) {
  Fields f(j, source);
  NomicBertConfig& c = m->nomic_bert;
  QEFF_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size"));
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.Int("n_embd"));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.Int("n_layer"));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads, f.Int("n_head"));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("n_inner"));
  QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings, f.Int("n_positions", 2048));
  QEFF_ASSIGN_OR_RETURN(c.type_vocab_size, f.Int("type_vocab_size", 2));
  QEFF_ASSIGN_OR_RETURN(c.layer_norm_eps,
                        f.Float("layer_norm_epsilon", 1e-12f));
  QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.Float("rotary_emb_base", 10000.0f));
  QEFF_ASSIGN_OR_RETURN(std::string act,
                        f.String("activation_function", "swiglu"));
  if (act != "swiglu") return f.Error("activation_function", "must be swiglu");
  QEFF_ASSIGN_OR_RETURN(float frac, f.Float("rotary_emb_fraction", 1.0f));
  if (frac != 1.0f) return f.Error("rotary_emb_fraction", "must be 1.0");
  for (const char* flag :
       {"rotary_emb_interleaved", "qkv_proj_bias", "mlp_fc1_bias",
        "mlp_fc2_bias", "prenorm", "causal"}) {
    QEFF_ASSIGN_OR_RETURN(bool on, f.Bool(flag, false));
    if (on)
      return absl::UnimplementedError(
          absl::StrCat(source, ": ", flag, " = true is not supported"));
  }
  if (f.Get("rotary_emb_scale_base"))
    return f.Error("rotary_emb_scale_base", "is not supported");
  if (f.Get("moe_every_n_layers"))
    return absl::UnimplementedError(
        absl::StrCat(source, ": nomic-bert-moe is not supported"));
  return ValidatedIn(source, c.Validate());
}

// The text model's config of a *ForConditionalGeneration config.json (its
// `text_config`, `nested`) or of a text-only one (`top`); `src` names it in
// errors.
absl::StatusOr<const base::JsonValue*> TextConfig(const base::JsonValue& top,
                                                  const std::string& source,
                                                  bool nested,
                                                  std::string* src) {
  *src = source;
  if (!nested) return &top;
  const base::JsonValue* tj = top.Find("text_config");
  if (tj == nullptr || !tj->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": field 'text_config' is missing or not an object"));
  }
  *src = absl::StrCat(source, " (text_config)");
  return tj;
}

// Gemma3TextConfig, with its defaults for absent fields (real Gemma 3
// checkpoints' text_config leaves most of them out). Gemma3ForConditional-
// Generation's config holds it under `text_config`.
absl::Status ParseGemma3(const base::JsonValue& top, const std::string& source,
                         ModelConfig* m) {
  std::string src;
  QEFF_ASSIGN_OR_RETURN(
      const base::JsonValue* tj,
      TextConfig(top, source, m->model_type == "gemma3", &src));
  Fields f(*tj, src);
  Gemma3Config& c = m->gemma3;
  QEFF_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size", 262208));
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size", 2304));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size", 9216));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.Int("num_hidden_layers", 26));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads, f.Int("num_attention_heads", 8));
  QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads, f.Int("num_key_value_heads", 4));
  QEFF_ASSIGN_OR_RETURN(c.head_dim, f.Int("head_dim", 256));
  QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                        f.Int("max_position_embeddings", 131072));
  QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps, f.Float("rms_norm_eps", 1e-6f));
  QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.Float("rope_theta", 1000000.0f));
  QEFF_ASSIGN_OR_RETURN(c.rope_local_base_freq,
                        f.Float("rope_local_base_freq", 10000.0f));
  QEFF_ASSIGN_OR_RETURN(c.rope_scaling,
                        ParseRopeScaling(tj->Find("rope_scaling"), src));
  // transformers 5: rope_parameters per attention type.
  if (const base::JsonValue* rp = f.Get("rope_parameters")) {
    if (!rp->is_object()) return f.Error("rope_parameters", "is not an object");
    if (const base::JsonValue* full = rp->Find("full_attention")) {
      QEFF_ASSIGN_OR_RETURN(c.rope_scaling, ParseRopeScaling(full, src));
      QEFF_ASSIGN_OR_RETURN(
          c.rope_theta, Fields(*full, src).Float("rope_theta", c.rope_theta));
    }
    if (const base::JsonValue* local = rp->Find("sliding_attention")) {
      QEFF_ASSIGN_OR_RETURN(RopeScaling ls, ParseRopeScaling(local, src));
      if (ls.type != RopeScaling::Type::kNone)
        return f.Error("rope_parameters.sliding_attention",
                       "has a rope scaling (only 'default' is supported)");
      QEFF_ASSIGN_OR_RETURN(
          c.rope_local_base_freq,
          Fields(*local, src).Float("rope_theta", c.rope_local_base_freq));
    }
  }
  QEFF_ASSIGN_OR_RETURN(float pre_attn, f.Float("query_pre_attn_scalar", 256));
  if (!(pre_attn > 0)) return f.Error("query_pre_attn_scalar", "must be > 0");
  c.attention_scale = static_cast<float>(1.0 / std::sqrt(pre_attn));
  c.embed_scale =
      static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size)));
  c.norm_weight_offset = 1.0f;
  QEFF_ASSIGN_OR_RETURN(c.final_logit_softcapping,
                        f.Float("final_logit_softcapping", 0.0f));
  if (f.Get("attn_logit_softcapping")) {
    return absl::UnimplementedError(
        absl::StrCat(src,
                     ": field 'attn_logit_softcapping' is set; attention logit "
                     "soft-capping is not supported for gemma3"));
  }
  QEFF_ASSIGN_OR_RETURN(std::string act,
                        f.String("hidden_activation", "gelu_pytorch_tanh"));
  if (act != "gelu_pytorch_tanh") {
    return absl::UnimplementedError(
        absl::StrCat(src, ": hidden_activation '", act,
                     "' is not supported (supported: gelu_pytorch_tanh)"));
  }
  // Tying is a property of the whole model (the top-level config).
  QEFF_ASSIGN_OR_RETURN(c.tie_word_embeddings,
                        Fields(top, source).Bool("tie_word_embeddings", true));
  QEFF_ASSIGN_OR_RETURN(c.sliding_window, f.Int("sliding_window", 4096));
  if (const base::JsonValue* types = f.Get("layer_types")) {
    if (!types->is_array() ||
        static_cast<int64_t>(types->array().size()) != c.num_hidden_layers)
      return f.Error("layer_types",
                     absl::StrCat("is not an array of ", c.num_hidden_layers,
                                  " layer types"));
    c.sliding_layers.clear();
    for (const base::JsonValue& t : types->array()) {
      const std::string s = t.is_string() ? t.string_value() : "";
      if (s != "sliding_attention" && s != "full_attention")
        return f.Error("layer_types",
                       "holds a value other than 'sliding_attention' or "
                       "'full_attention'");
      c.sliding_layers.push_back(s == "sliding_attention");
    }
  } else {
    QEFF_ASSIGN_OR_RETURN(int64_t pattern, f.Int("sliding_window_pattern", 6));
    c.sliding_layers =
        Gemma3SlidingLayersFromPattern(c.num_hidden_layers, pattern);
  }
  return ValidatedIn(src, c.Validate());
}

// A per-layer list of HF ints/bools (Llama 4's no_rope_layers) as bools.
absl::StatusOr<std::vector<bool>> LayerFlags(const Fields& f,
                                             absl::string_view field,
                                             const base::JsonValue& v,
                                             int64_t layers) {
  if (!v.is_array() || static_cast<int64_t>(v.array().size()) != layers)
    return f.Error(field, absl::StrCat("is not an array of ", layers,
                                       " per-layer values"));
  std::vector<bool> out;
  for (const base::JsonValue& e : v.array()) {
    if (e.is_bool()) {
      out.push_back(e.bool_value());
    } else {
      auto i = e.AsInt64();
      if (!i.ok() || (*i != 0 && *i != 1))
        return f.Error(field, "holds a value other than 0 or 1");
      out.push_back(*i == 1);
    }
  }
  return out;
}

// Llama4TextConfig with its defaults for absent fields;
// Llama4ForConditionalGeneration's config holds it under `text_config`.
absl::Status ParseLlama4(const base::JsonValue& top, const std::string& source,
                         ModelConfig* m) {
  std::string src;
  QEFF_ASSIGN_OR_RETURN(
      const base::JsonValue* tj,
      TextConfig(top, source, m->model_type == "llama4", &src));
  Fields f(*tj, src);
  Llama4Config& c = m->llama4;
  QEFF_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size", 202048));
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size", 5120));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size", 8192));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size_mlp,
                        f.Int("intermediate_size_mlp", 16384));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.Int("num_hidden_layers", 48));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads,
                        f.Int("num_attention_heads", 40));
  QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads,
                        f.Int("num_key_value_heads", c.num_attention_heads));
  QEFF_ASSIGN_OR_RETURN(c.head_dim, f.Int("head_dim", 128));
  QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                        f.Int("max_position_embeddings", 4096 * 32));
  QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps, f.Float("rms_norm_eps", 1e-5f));
  QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.Float("rope_theta", 500000.0f));
  QEFF_ASSIGN_OR_RETURN(c.rope_scaling,
                        ParseRopeScaling(tj->Find("rope_scaling"), src));
  // transformers 5: rope_parameters (one set; Llama 4 has no per-type RoPE).
  if (const base::JsonValue* rp = f.Get("rope_parameters")) {
    if (!rp->is_object()) return f.Error("rope_parameters", "is not an object");
    QEFF_ASSIGN_OR_RETURN(c.rope_scaling, ParseRopeScaling(rp, src));
    QEFF_ASSIGN_OR_RETURN(c.rope_theta,
                          Fields(*rp, src).Float("rope_theta", c.rope_theta));
  }
  QEFF_ASSIGN_OR_RETURN(std::string act, f.String("hidden_act", "silu"));
  if (act != "silu") {
    return absl::UnimplementedError(absl::StrCat(
        src, ": hidden_act '", act, "' is not supported (supported: silu)"));
  }
  QEFF_ASSIGN_OR_RETURN(bool bias, f.Bool("attention_bias", false));
  if (bias) {
    return absl::UnimplementedError(
        absl::StrCat(src, ": attention_bias = true is not supported"));
  }
  QEFF_ASSIGN_OR_RETURN(c.num_local_experts, f.Int("num_local_experts", 16));
  QEFF_ASSIGN_OR_RETURN(c.num_experts_per_tok, f.Int("num_experts_per_tok", 1));
  QEFF_ASSIGN_OR_RETURN(c.use_qk_norm, f.Bool("use_qk_norm", true));
  // attn_temperature_tuning: a bool (some released configs hold a number;
  // HF tests its truth value).
  c.attn_temperature_tuning = true;
  if (const base::JsonValue* t = f.Get("attn_temperature_tuning")) {
    if (t->is_bool()) {
      c.attn_temperature_tuning = t->bool_value();
    } else if (t->is_number()) {
      c.attn_temperature_tuning = t->number() != 0;
    } else {
      return f.Error("attn_temperature_tuning", "is not a boolean");
    }
  }
  QEFF_ASSIGN_OR_RETURN(float floor_scale, f.Float("floor_scale", 8192));
  if (!(floor_scale >= 1) || floor_scale != std::floor(floor_scale))
    return f.Error("floor_scale", "must be a positive integer");
  c.floor_scale = static_cast<int64_t>(floor_scale);
  QEFF_ASSIGN_OR_RETURN(c.attn_scale, f.Float("attn_scale", 0.1f));
  // Absent: HF's default 8192; null: no chunk, which HF refuses for a
  // chunked layer (create_chunked_causal_mask), checked below.
  const base::JsonValue* chunk_field = tj->Find("attention_chunk_size");
  const bool chunk_null = chunk_field != nullptr && chunk_field->is_null();
  QEFF_ASSIGN_OR_RETURN(c.attention_chunk_size,
                        f.Int("attention_chunk_size", 8192));
  if (chunk_null) c.attention_chunk_size = 0;
  const int64_t n = c.num_hidden_layers;
  // no_rope_layers[i] = 1: layer i uses RoPE (HF's name notwithstanding);
  // absent or empty: every no_rope_layer_interval-th layer is NoPE.
  const base::JsonValue* nr = f.Get("no_rope_layers");
  if (nr != nullptr && nr->is_array() && !nr->array().empty()) {
    QEFF_ASSIGN_OR_RETURN(c.rope_layers,
                          LayerFlags(f, "no_rope_layers", *nr, n));
  } else {
    QEFF_ASSIGN_OR_RETURN(int64_t interval, f.Int("no_rope_layer_interval", 4));
    if (interval < 1) return f.Error("no_rope_layer_interval", "must be >= 1");
    c.rope_layers = Llama4RopeLayersFromInterval(n, interval);
  }
  if (const base::JsonValue* types = f.Get("layer_types")) {
    if (!types->is_array() || static_cast<int64_t>(types->array().size()) != n)
      return f.Error("layer_types",
                     absl::StrCat("is not an array of ", n, " layer types"));
    c.chunked_layers.clear();
    for (const base::JsonValue& t : types->array()) {
      const std::string s = t.is_string() ? t.string_value() : "";
      if (s != "chunked_attention" && s != "full_attention")
        return f.Error("layer_types",
                       "holds a value other than 'chunked_attention' or "
                       "'full_attention'");
      c.chunked_layers.push_back(s == "chunked_attention");
    }
  } else {
    c.chunked_layers = c.rope_layers;  // RoPE layers attend in chunks
  }
  if (const base::JsonValue* ml = f.Get("moe_layers")) {
    if (!ml->is_array()) return f.Error("moe_layers", "is not an array");
    c.moe_layers.assign(n > 0 ? n : 0, false);
    for (const base::JsonValue& v : ml->array()) {
      auto i = v.AsInt64();
      if (!i.ok() || *i < 0 || *i >= n)
        return f.Error("moe_layers", "holds an invalid layer index");
      c.moe_layers[*i] = true;
    }
  } else {
    QEFF_ASSIGN_OR_RETURN(int64_t step, f.Int("interleave_moe_layer_step", 1));
    if (step < 1) return f.Error("interleave_moe_layer_step", "must be >= 1");
    c.moe_layers = Llama4MoELayersFromStep(n, step);
  }
  if (chunk_null) {
    for (bool chunked : c.chunked_layers)
      if (chunked)
        return f.Error("attention_chunk_size",
                       "is null but a layer is chunked_attention");
  }
  // Tying is a property of the whole model (the top-level config).
  QEFF_ASSIGN_OR_RETURN(c.tie_word_embeddings,
                        Fields(top, source).Bool("tie_word_embeddings", false));
  return ValidatedIn(src, c.Validate());
}

// HPC-AI Tech's Grok1Config (configuration_grok1.py), with its defaults
// for absent fields. head_dim is hidden_size / num_attention_heads and the
// RoPE base 10000 in its modeling code (a `rope_theta` field is read when
// present); the experts' activation is nn.GELU() (exact) and their top-k
// softmax weights are not renormalised.
absl::Status ParseGrok(const base::JsonValue& j, const std::string& source,
                       ModelConfig* m) {
  Fields f(j, source);
  GrokConfig& c = m->grok;
  QEFF_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size", 32000));
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size", 4096));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size", 32768));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.Int("num_hidden_layers", 32));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads,
                        f.Int("num_attention_heads", 32));
  QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads,
                        f.Int("num_key_value_heads", c.num_attention_heads));
  QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                        f.Int("max_position_embeddings", 4096));
  QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps, f.Float("rms_norm_eps", 1e-5f));
  QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.Float("rope_theta", 10000.0f));
  QEFF_ASSIGN_OR_RETURN(c.num_experts, f.Int("num_experts", 8));
  QEFF_ASSIGN_OR_RETURN(c.num_experts_per_tok, f.Int("num_experts_per_tok", 2));
  QEFF_ASSIGN_OR_RETURN(c.attn_output_multiplier,
                        f.Float("attn_output_multiplier", 1.0f));
  QEFF_ASSIGN_OR_RETURN(c.max_attn_value, f.Float("max_attn_value", 1.0f));
  QEFF_ASSIGN_OR_RETURN(c.embedding_multiplier_scale,
                        f.Float("embedding_multiplier_scale", 1.0f));
  QEFF_ASSIGN_OR_RETURN(c.output_multiplier_scale,
                        f.Float("output_multiplier_scale", 1.0f));
  QEFF_ASSIGN_OR_RETURN(c.tie_word_embeddings,
                        f.Bool("tie_word_embeddings", true));
  if (c.num_attention_heads > 0) {
    if (c.hidden_size % c.num_attention_heads != 0)
      return f.Error("hidden_size", "is not a multiple of num_attention_heads");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (f.Get("rope_scaling"))
    return absl::UnimplementedError(absl::StrCat(
        source, ": field 'rope_scaling' is set; Grok-1 has no rope scaling"));
  c.norm_topk_prob = false;
  c.expert_activation = 1;
  return ValidatedIn(source, c.Validate());
}

}  // namespace

absl::StatusOr<ModelConfig> ParseHfModelConfig(const base::JsonValue& j,
                                               const std::string& source) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a JSON object"));
  }
  Fields f(j, source);
  QEFF_ASSIGN_OR_RETURN(std::string model_type, f.String("model_type", ""));
  std::string arch_name;
  if (const base::JsonValue* archs = f.Get("architectures")) {
    if (!archs->is_array() || archs->array().empty() ||
        !archs->array()[0].is_string()) {
      return f.Error("architectures", "is not a non-empty array of strings");
    }
    arch_name = archs->array()[0].string_value();
  }
  const ArchInfo* info = nullptr;
  for (const ArchInfo& a : SupportedArchitectures()) {
    // A model_type with several classes (wav2vec2) takes the class named.
    if ((!model_type.empty() ? a.model_type == model_type
                             : a.architecture == arch_name) &&
        (info == nullptr || a.architecture == arch_name))
      info = &a;
  }
  if (info == nullptr) {
    if (model_type.empty() && arch_name.empty())
      return f.Error("model_type", "is missing (and so is 'architectures')");
    return absl::UnimplementedError(absl::StrCat(
        source, ": architecture '", model_type.empty() ? arch_name : model_type,
        "' is not supported (supported: ", SupportedArchitecturesText(), ")"));
  }
  // A BERT checkpoint saved with a head class (BertForMaskedLM, ...) holds
  // the BertModel encoder under `bert.`: the encoder is what is built.
  const bool bert_head =
      info->family == ModelFamily::kBert && absl::StartsWith(arch_name, "Bert");
  if (!arch_name.empty() && arch_name != info->architecture && !bert_head) {
    return absl::UnimplementedError(absl::StrCat(
        source, ": architectures[0] '", arch_name, "' is not supported for ",
        "model_type '", info->model_type, "' (supported: ", info->architecture,
        ")"));
  }
  ModelConfig m;
  m.family = info->family;
  m.model_type = info->model_type;
  m.architecture = info->architecture;
  if (m.family == ModelFamily::kLlama) {
    QEFF_RETURN_IF_ERROR(ParseLlamaFamily(j, source, &m));
  } else if (m.family == ModelFamily::kGemma3) {
    QEFF_RETURN_IF_ERROR(ParseGemma3(j, source, &m));
  } else if (m.family == ModelFamily::kGrok) {
    QEFF_RETURN_IF_ERROR(ParseGrok(j, source, &m));
  } else if (m.family == ModelFamily::kLlama4) {
    QEFF_RETURN_IF_ERROR(ParseLlama4(j, source, &m));
  } else if (m.family == ModelFamily::kWav2Vec2) {
    QEFF_ASSIGN_OR_RETURN(m.wav2vec2,
                          ParseWav2Vec2Config(j, source, m.architecture));
  } else if (m.family == ModelFamily::kBert) {
    QEFF_RETURN_IF_ERROR(ParseBert(j, source, &m));
  } else if (m.family == ModelFamily::kNomicBert) {
    QEFF_RETURN_IF_ERROR(ParseNomicBert(j, source, &m));
  } else {
    QEFF_RETURN_IF_ERROR(ParseGpt2(j, source, &m));
  }
  FillCommon(&m);
  return m;
}

absl::StatusOr<ir::Graph> BuildEager(const ModelConfig& config,
                                     const WeightMap& weights) {
  absl::StatusOr<ir::Graph> g = absl::InternalError("unknown family");
  switch (config.family) {
    case ModelFamily::kLlama:
      g = BuildLlamaEager(config.llama, weights);
      break;
    case ModelFamily::kGpt2:
      g = BuildGpt2Eager(config.gpt2, weights);
      break;
    case ModelFamily::kBert:
      g = BuildBertEager(config.bert, weights);
      break;
    case ModelFamily::kNomicBert:
      g = BuildNomicBertEager(config.nomic_bert, weights);
      break;
    case ModelFamily::kGemma3:
      g = BuildGemma3Eager(config.gemma3, weights);
      break;
    case ModelFamily::kLlama4:
      g = BuildLlama4Eager(config.llama4, weights);
      break;
    case ModelFamily::kWav2Vec2:
      g = BuildWav2Vec2Eager(config.wav2vec2, weights);
      break;
    case ModelFamily::kGrok:
      g = BuildGrokEager(config.grok, weights);
      break;
  }
  if (g.ok() && !config.architecture.empty()) g->name = config.architecture;
  return g;
}

}  // namespace qeff::models
