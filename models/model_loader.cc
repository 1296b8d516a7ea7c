#include "models/model_loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "models/bert_gguf.h"
#include "models/gguf.h"
#include "models/gguf_gemma3.h"
#include "models/gguf_gpt2.h"
#include "models/gguf_grok.h"
#include "models/gguf_llama4.h"
#include "models/hf_hub.h"
#include "models/hf_tokenizer.h"
#include "models/llama2c.h"
#include "models/rope_layout.h"
#include "models/safetensors.h"
#include "models/spm_tokenizer.h"
#include "models/tokenizer_loader.h"
#include "models/weight_check.h"

namespace qeff::models {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

absl::Status Prefixed(const std::string& path, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

// `{arch}.expert_*` keys (llama.cpp's LLM_KV_EXPERT_*): every layer has
// experts when expert_count > 0; llama.cpp renormalises the selected
// experts' softmax weights for llama (Mixtral) and qwen3moe alike.
absl::Status MoEFromGguf(const GgufFile& f, const std::string& path,
                         const std::string& arch, LlamaConfig* c) {
  auto key = [&](absl::string_view k) { return absl::StrCat(arch, ".", k); };
  if (!f.Has(key("expert_count"))) {
    if (arch == "qwen3moe")
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", key("expert_count"), " is missing"));
    return absl::OkStatus();
  }
  QEFF_ASSIGN_OR_RETURN(c->num_experts, f.GetInt(key("expert_count")));
  if (c->num_experts == 0) return absl::OkStatus();
  QEFF_ASSIGN_OR_RETURN(c->num_experts_per_tok,
                        f.GetInt(key("expert_used_count")));
  if (f.Has(key("expert_feed_forward_length"))) {
    QEFF_ASSIGN_OR_RETURN(c->moe_intermediate_size,
                          f.GetInt(key("expert_feed_forward_length")));
  }
  c->norm_topk_prob = true;
  c->moe_style = "qwen";
  if (f.Has(key("expert_weights_norm"))) {
    QEFF_ASSIGN_OR_RETURN(c->norm_topk_prob,
                          f.GetBool(key("expert_weights_norm")));
  }
  if (f.Has(key("expert_weights_scale"))) {
    QEFF_ASSIGN_OR_RETURN(float scale, f.GetF32(key("expert_weights_scale")));
    if (scale != 0.0f && scale != 1.0f) {
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("expert_weights_scale"), " ", scale,
                       " is not supported (supported: 1)"));
    }
  }
  if (f.Has(key("expert_gating_func"))) {
    QEFF_ASSIGN_OR_RETURN(int64_t func, f.GetInt(key("expert_gating_func")));
    if (func != 1) {  // LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("expert_gating_func"), " ", func,
                       " is not supported (supported: 1 softmax)"));
    }
  }
  if (f.Has(key("expert_shared_count")) ||
      f.Has(key("expert_shared_feed_forward_length"))) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": shared experts are not supported for ", arch));
  }
  return absl::OkStatus();
}

// Phi-3 (llama.cpp's phi3): fused attn_qkv and ffn_up (gate rows first);
// with rope_factors_long/short tensors, longrope scaling with
// phi3.rope.scaling.original_context_length and .attn_factor. llama.cpp
// picks the long factors by context size (n_ctx > original); qeff follows
// transformers (per forward, max(position_ids) + 1 > original), which agree
// while a sequence stays within the original context.
absl::Status Phi3RopeFromGguf(const GgufFile& f, const std::string& path,
                              LlamaConfig* c) {
  c->fused_qkv = c->fused_gate_up = true;
  const GgufTensorInfo* lo = f.FindTensor("rope_factors_long.weight");
  const GgufTensorInfo* sh = f.FindTensor("rope_factors_short.weight");
  if (lo == nullptr && sh == nullptr) return absl::OkStatus();
  if (lo == nullptr || sh == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": phi3 needs both rope_factors_long and rope_factors_short"));
  }
  RopeScaling& r = c->rope_scaling;
  r.type = RopeScaling::Type::kLongRope;
  for (auto [t, out] :
       {std::pair{lo, &r.long_factor}, std::pair{sh, &r.short_factor}}) {
    if (t->tensor.dtype() != ir::DType::kF32 || t->tensor.is_quantized()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor '", t->name, "' must be f32, got ",
                       t->tensor.TypeString()));
    }
    const float* p = t->tensor.data<float>();
    out->assign(p, p + t->tensor.num_elements());
  }
  QEFF_ASSIGN_OR_RETURN(r.original_max_position_embeddings,
                        f.GetInt("phi3.rope.scaling.original_context_length"));
  r.attention_factor = 1.0f;
  if (f.Has("phi3.rope.scaling.attn_factor")) {
    QEFF_ASSIGN_OR_RETURN(r.attention_factor,
                          f.GetF32("phi3.rope.scaling.attn_factor"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedModel> LoadGguf(const std::string& path,
                                     const LoadOptions& options) {
  QEFF_ASSIGN_OR_RETURN(GgufFile f, ReadGguf(path));
  QEFF_ASSIGN_OR_RETURN(std::string arch, f.GetString("general.architecture"));
  // The GGUF architectures read here (llama.cpp's names); Mixtral is
  // "llama" with expert_count.
  static const char* const kGgufArchs[] = {
      "llama",  "qwen2", "qwen3",      "qwen3moe", "phi3", "gpt2",
      "gemma3", "bert",  "nomic-bert", "llama4",   "grok"};
  if (std::find(std::begin(kGgufArchs), std::end(kGgufArchs), arch) ==
      std::end(kGgufArchs)) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": general.architecture '", arch,
        "' is not supported (supported: ", absl::StrJoin(kGgufArchs, ", "),
        ")"));
  }
  LoadedModel m;
  m.source = path;
  if (arch == "bert" || arch == "nomic-bert") {  // models/bert_gguf.h
    QEFF_RETURN_IF_ERROR(
        arch == "bert" ? BertFromGguf(f, path, &m.config, &m.weights)
                       : NomicBertFromGguf(f, path, &m.config, &m.weights));
    m.architecture = m.config.architecture;
    if (options.tokenizer_path.empty()) {
      QEFF_ASSIGN_OR_RETURN(m.tokenizer, TokenizerFromGguf(f));
    }
    return m;
  }
  if (arch == "gpt2" || arch == "gemma3" || arch == "llama4" ||
      arch == "grok") {
    QEFF_RETURN_IF_ERROR(
        arch == "gpt2"     ? Gpt2FromGguf(f, path, &m.config, &m.weights)
        : arch == "gemma3" ? Gemma3FromGguf(f, path, &m.config, &m.weights)
        : arch == "llama4" ? Llama4FromGguf(f, path, &m.config, &m.weights)
                           : GrokFromGguf(f, path, &m.config, &m.weights));
    m.architecture = m.config.architecture;
    if (options.tokenizer_path.empty()) {
      QEFF_ASSIGN_OR_RETURN(m.tokenizer, TokenizerFromGguf(f));
    }
    return m;
  }
  LlamaConfig c;
  auto key = [&](absl::string_view k) { return absl::StrCat(arch, ".", k); };
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.GetInt(key("embedding_length")));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size,
                        f.GetInt(key("feed_forward_length")));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.GetInt(key("block_count")));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads,
                        f.GetInt(key("attention.head_count")));
  c.num_key_value_heads = c.num_attention_heads;
  if (f.Has(key("attention.head_count_kv"))) {
    QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads,
                          f.GetInt(key("attention.head_count_kv")));
  }
  if (f.Has(key("attention.layer_norm_rms_epsilon"))) {
    QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps,
                          f.GetF32(key("attention.layer_norm_rms_epsilon")));
  }
  if (f.Has(key("rope.freq_base"))) {
    QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.GetF32(key("rope.freq_base")));
  }
  if (f.Has(key("context_length"))) {
    QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                          f.GetInt(key("context_length")));
  }
  if (f.Has(key("attention.key_length"))) {
    QEFF_ASSIGN_OR_RETURN(c.head_dim, f.GetInt(key("attention.key_length")));
  }
  if (f.Has(key("attention.sliding_window"))) {
    QEFF_ASSIGN_OR_RETURN(c.sliding_window,
                          f.GetInt(key("attention.sliding_window")));
  }
  if (f.Has(key("rope.dimension_count"))) {
    QEFF_ASSIGN_OR_RETURN(int64_t rot, f.GetInt(key("rope.dimension_count")));
    if (c.num_attention_heads > 0 && rot != c.HeadDim()) {
      return absl::UnimplementedError(absl::StrCat(
          path, ": ", key("rope.dimension_count"), " ", rot,
          " differs from the head dim (partial rotary is not supported)"));
    }
  }
  if (f.Has(key("rope.scaling.type"))) {
    QEFF_ASSIGN_OR_RETURN(std::string scaling,
                          f.GetString(key("rope.scaling.type")));
    if (scaling == "linear") {
      c.rope_scaling.type = RopeScaling::Type::kLinear;
      QEFF_ASSIGN_OR_RETURN(c.rope_scaling.factor,
                            f.GetF32(key("rope.scaling.factor")));
    } else if (scaling != "none") {
      return absl::UnimplementedError(
          absl::StrCat(path, ": ", key("rope.scaling.type"), " '", scaling,
                       "' is not supported (supported: none, linear)"));
    }
  }
  // llama.cpp permutes Q/K rows for its interleaved RoPE (llama); qwen2
  // and qwen3 use the NEOX (rotate-half) pairing and are stored as in HF.
  c.qk_norm = arch == "qwen3" || arch == "qwen3moe";
  QEFF_RETURN_IF_ERROR(MoEFromGguf(f, path, arch, &c));
  if (arch == "phi3") QEFF_RETURN_IF_ERROR(Phi3RopeFromGguf(f, path, &c));
  const bool permuted = arch == "llama";
  for (const GgufTensorInfo& t : f.tensors()) {
    std::string hf = GgufToHfName(t.name);
    if (arch == "phi3" && (t.name == "rope_factors_long.weight" ||
                           t.name == "rope_factors_short.weight")) {
      continue;  // read by Phi3RopeFromGguf
    }
    if (arch == "phi3" && absl::EndsWith(hf, ".mlp.up_proj.weight")) {
      hf.replace(hf.size() - 15, 15, ".gate_up_proj.weight");
    }
    if (hf.empty()) {
      if (absl::EndsWith(t.name, ".ffn_gate_up_exps.weight")) {
        return absl::UnimplementedError(absl::StrCat(
            path, ": tensor '", t.name,
            "': fused gate/up expert stacks (convert_hf_to_gguf.py "
            "--fuse-gate-up-exps) are not supported"));
      }
      if (t.name == "rope_freqs.weight") {
        return absl::UnimplementedError(
            absl::StrCat(path,
                         ": tensor 'rope_freqs.weight' (llama3 rope scaling) "
                         "is not supported yet"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unexpected tensor '", t.name, "' for ", arch));
    }
    ir::Tensor w = t.tensor;
    if (absl::StrContains(hf, "self_attn.qkv_proj.")) {
      // llama.cpp's create_tensor_qkv: one fused attn_qkv instead of
      // attn_q/k/v (q rows, then k, then v).
      if (permuted) {
        return absl::UnimplementedError(absl::StrCat(
            path, ": tensor '", t.name,
            "': a fused attn_qkv in a llama GGUF (Q/K rows in llama.cpp's "
            "interleaved layout) is not supported"));
      }
      c.fused_qkv = true;
    }
    if (absl::EndsWith(hf, ".bias")) {
      if (absl::StrContains(hf, "self_attn.q_proj") ||
          absl::StrContains(hf, "self_attn.k_proj") ||
          absl::StrContains(hf, "self_attn.v_proj")) {
        c.qkv_bias = true;
      }
      if (permuted && (absl::StrContains(hf, "q_proj") ||
                       absl::StrContains(hf, "k_proj"))) {
        return absl::UnimplementedError(absl::StrCat(
            path, ": tensor '", t.name, "': q/k biases in a llama GGUF"));
      }
    }
    if (permuted && (absl::EndsWith(hf, "q_proj.weight") ||
                     absl::EndsWith(hf, "k_proj.weight"))) {
      int heads = absl::EndsWith(hf, "q_proj.weight") ? c.num_attention_heads
                                                      : c.num_key_value_heads;
      auto un = UnpermuteQK(w, heads);
      if (!un.ok()) {
        return absl::Status(un.status().code(),
                            absl::StrCat(path, ": tensor '", t.name,
                                         "': ", un.status().message()));
      }
      w = *std::move(un);
    }
    m.weights[hf] = std::move(w);
  }
  auto embed = m.weights.find("model.embed_tokens.weight");
  if (embed == m.weights.end())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no tensor 'token_embd.weight'"));
  c.vocab_size = embed->second.dims()[0];
  c.tie_word_embeddings = !m.weights.contains("lm_head.weight");
  std::string model_type =
      arch != "llama" ? arch : (c.sliding_window > 0 ? "mistral" : "llama");
  if (arch == "qwen3moe") model_type = "qwen3_moe";
  if (arch == "llama" && c.num_experts > 0) {
    // llama.cpp converts Mixtral as "llama" with experts; HF's names.
    model_type = "mixtral";
    c.moe_style = "mixtral";
    WeightMap renamed;
    for (auto& [n, t] : m.weights) {
      std::string r = n;
      for (const auto& [from, to] :
           std::vector<std::pair<std::string, std::string>>{
               {".mlp.gate.weight", ".block_sparse_moe.gate.weight"},
               {".mlp.experts.gate_proj.", ".block_sparse_moe.experts.w1."},
               {".mlp.experts.up_proj.", ".block_sparse_moe.experts.w3."},
               {".mlp.experts.down_proj.", ".block_sparse_moe.experts.w2."}}) {
        size_t at = r.find(from);
        if (at != std::string::npos) r.replace(at, from.size(), to);
      }
      renamed[r] = std::move(t);
    }
    m.weights = std::move(renamed);
  }
  m.config = FromLlamaConfig(c, model_type);
  m.architecture = m.config.architecture;
  if (options.tokenizer_path.empty()) {
    QEFF_ASSIGN_OR_RETURN(m.tokenizer, TokenizerFromGguf(f));
  }
  return m;
}

absl::StatusOr<LoadedModel> LoadLlama2c(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(Llama2cCheckpoint ck, ReadLlama2c(path));
  LoadedModel m;
  m.source = path;
  const Llama2cConfig& k = ck.config;
  LlamaConfig c;
  c.hidden_size = k.dim;
  c.intermediate_size = k.hidden_dim;
  c.num_hidden_layers = k.n_layers;
  c.num_attention_heads = k.n_heads;
  c.num_key_value_heads = k.n_kv_heads;
  c.vocab_size = k.vocab_size;
  c.max_position_embeddings = k.seq_len;
  c.tie_word_embeddings = k.shared_classifier;
  // llama2.c's run.c uses eps 1e-5 and theta 10000, fixed.
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  for (auto& [name, w] : ck.weights) {
    ir::Tensor t = w;
    if (absl::EndsWith(name, "q_proj.weight") ||
        absl::EndsWith(name, "k_proj.weight")) {
      int heads = absl::EndsWith(name, "q_proj.weight") ? c.num_attention_heads
                                                        : c.num_key_value_heads;
      QEFF_ASSIGN_OR_RETURN(t, UnpermuteQK(t, heads));
    }
    m.weights[name] = std::move(t);
  }
  m.config = FromLlamaConfig(c, "llama");
  m.architecture = m.config.architecture;
  return m;
}

absl::StatusOr<LoadedModel> LoadHfFolder(const std::string& dir) {
  LoadedModel m;
  m.source = dir;
  QEFF_ASSIGN_OR_RETURN(HfFolderConfigs cfg, ReadHfFolderConfigs(dir));
  m.config = std::move(cfg.model);
  m.generation = std::move(cfg.generation);
  m.tokenizer_config = std::move(cfg.tokenizer);
  m.architecture = m.config.architecture;
  // PyTorch pickles (HPC-AI Tech's hpcai-tech/grok-1 ships its weights as
  // pytorch_model-*.bin) are refused by name: unpickling runs code.
  if (!base::FileExists(dir + "/model.safetensors") &&
      !base::FileExists(dir + "/model.safetensors.index.json")) {
    for (const char* pickle :
         {"pytorch_model.bin.index.json", "pytorch_model.bin"}) {
      if (base::FileExists(absl::StrCat(dir, "/", pickle))) {
        return absl::UnimplementedError(absl::StrCat(
            dir, ": the weights are PyTorch pickle files (", pickle,
            "); qeff reads safetensors only (loading a pickle runs "
            "arbitrary code): convert them to model.safetensors first"));
      }
    }
  }
  QEFF_ASSIGN_OR_RETURN(auto tensors, ReadSafetensorsFolder(dir));
  for (auto& [name, t] : tensors) {
    std::string n = name;
    if (m.config.family == ModelFamily::kGpt2) {
      if (absl::StartsWith(n, "transformer.")) n = n.substr(12);
      // Causal-mask buffers of older checkpoints, and the tied head.
      if (absl::EndsWith(n, ".attn.bias") ||
          absl::EndsWith(n, ".attn.masked_bias") || n == "lm_head.weight")
        continue;
    } else if (m.config.family == ModelFamily::kBert) {
      // The encoder of any Bert* class; its pooler/heads and the
      // position_ids buffer are not part of it.
      if (absl::StartsWith(n, "bert.")) n = n.substr(5);
      if (!absl::StartsWith(n, "embeddings.") &&
          !absl::StartsWith(n, "encoder."))
        continue;
      if (n == "embeddings.position_ids") continue;
    } else if (absl::EndsWith(n, ".rotary_emb.inv_freq")) {
      continue;  // a buffer some old checkpoints saved
    } else if (m.config.family == ModelFamily::kGemma3 ||
               m.config.family == ModelFamily::kLlama4) {
      // Gemma3/Llama4ForConditionalGeneration: the text model's weights
      // under language_model (before and after transformers 4.52); the
      // vision tower / model and projector are not loaded.
      std::string bare = absl::StartsWith(n, "model.") ? n.substr(6) : n;
      if (absl::StartsWith(bare, "vision_tower.") ||
          absl::StartsWith(bare, "vision_model.") ||
          absl::StartsWith(bare, "multi_modal_projector."))
        continue;
      if (absl::StartsWith(n, "language_model.model.")) {
        n = "model." + n.substr(21);
      } else if (absl::StartsWith(n, "model.language_model.")) {
        n = "model." + n.substr(21);
      } else if (n == "language_model.lm_head.weight") {
        n = "lm_head.weight";
      }
    }
    m.weights[n] = std::move(t);
  }
  return m;
}

}  // namespace

std::string GgufToHfName(absl::string_view gguf_name) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"},
  };
  for (const auto& [g, h] : kTop)
    if (gguf_name == g) return h;
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_qkv.weight", "self_attn.qkv_proj.weight"},
      {"attn_qkv.bias", "self_attn.qkv_proj.bias"},
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"ffn_gate_inp.weight", "mlp.gate.weight"},
      {"ffn_gate_exps.weight", "mlp.experts.gate_proj.weight"},
      {"ffn_up_exps.weight", "mlp.experts.up_proj.weight"},
      {"ffn_down_exps.weight", "mlp.experts.down_proj.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  absl::string_view layer, role;
  if (SplitGgufBlockName(gguf_name, &layer, &role)) {
    for (const auto& [g, h] : kLayer)
      if (role == g) return absl::StrCat("model.layers.", layer, ".", h);
  }
  return "";
}

absl::StatusOr<LoadedModel> Load(const std::string& path,
                                 const LoadOptions& options) {
  LoadedModel m;
  if (IsDir(path)) {
    QEFF_ASSIGN_OR_RETURN(m, LoadHfFolder(path));
  } else if (absl::EndsWith(path, ".gguf")) {
    QEFF_ASSIGN_OR_RETURN(m, LoadGguf(path, options));
  } else if (absl::EndsWith(path, ".bin")) {
    QEFF_ASSIGN_OR_RETURN(m, LoadLlama2c(path));
  } else if (!Exists(path) && LooksLikeHubId(path)) {
    QEFF_ASSIGN_OR_RETURN(std::string snapshot,
                          ResolveHubSnapshot(path, options.hub_cache_dir));
    QEFF_ASSIGN_OR_RETURN(m, LoadHfFolder(snapshot));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": unknown checkpoint format (expected a Hugging Face folder, a "
        ".gguf, a llama2.c .bin or a hub id ORG/NAME)"));
  }
  if (!options.tokenizer_path.empty()) {
    QEFF_ASSIGN_OR_RETURN(m.tokenizer, LoadTokenizer(options.tokenizer_path));
  } else if (m.tokenizer == nullptr && IsDir(m.source) &&
             Exists(m.source + "/tokenizer.json")) {
    QEFF_ASSIGN_OR_RETURN(m.tokenizer,
                          LoadHfTokenizer(m.source + "/tokenizer.json"));
  }
  QEFF_RETURN_IF_ERROR(CheckWeightsFinite(m.source, m.weights));
  auto eager = BuildEager(m.config, m.weights);
  if (!eager.ok()) return Prefixed(m.source, eager.status());
  m.eager = *std::move(eager);
  return m;
}

}  // namespace qeff::models
