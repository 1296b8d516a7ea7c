#include "models/model_loader.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/gguf.h"
#include "models/gguf_gpt2.h"
#include "models/hf_hub.h"
#include "models/hf_tokenizer.h"
#include "models/llama2c.h"
#include "models/rope_layout.h"
#include "models/safetensors.h"
#include "models/spm_tokenizer.h"
#include "models/tokenizer_loader.h"

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

absl::StatusOr<LoadedModel> LoadGguf(const std::string& path,
                                     const LoadOptions& options) {
  QEFF_ASSIGN_OR_RETURN(GgufFile f, ReadGguf(path));
  QEFF_ASSIGN_OR_RETURN(std::string arch, f.GetString("general.architecture"));
  if (arch != "llama" && arch != "qwen2" && arch != "qwen3" && arch != "gpt2") {
    return absl::UnimplementedError(
        absl::StrCat(path, ": general.architecture '", arch,
                     "' is not supported (supported: llama, qwen2, qwen3, "
                     "gpt2)"));
  }
  LoadedModel m;
  m.source = path;
  if (arch == "gpt2") {
    QEFF_RETURN_IF_ERROR(Gpt2FromGguf(f, path, &m.config, &m.weights));
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
  c.qk_norm = arch == "qwen3";
  const bool permuted = arch == "llama";
  for (const GgufTensorInfo& t : f.tensors()) {
    std::string hf = GgufToHfName(t.name);
    if (hf.empty()) {
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
  const std::string model_type =
      arch != "llama" ? arch : (c.sliding_window > 0 ? "mistral" : "llama");
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
  QEFF_ASSIGN_OR_RETURN(auto tensors, ReadSafetensorsFolder(dir));
  for (auto& [name, t] : tensors) {
    std::string n = name;
    if (m.config.family == ModelFamily::kGpt2) {
      if (absl::StartsWith(n, "transformer.")) n = n.substr(12);
      // Causal-mask buffers of older checkpoints, and the tied head.
      if (absl::EndsWith(n, ".attn.bias") ||
          absl::EndsWith(n, ".attn.masked_bias") || n == "lm_head.weight")
        continue;
    } else if (absl::EndsWith(n, ".rotary_emb.inv_freq")) {
      continue;  // a buffer some old checkpoints saved
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
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  if (absl::StartsWith(gguf_name, "blk.")) {
    absl::string_view rest = gguf_name.substr(4);
    size_t dot = rest.find('.');
    if (dot != absl::string_view::npos) {
      absl::string_view layer = rest.substr(0, dot),
                        role = rest.substr(dot + 1);
      for (const auto& [g, h] : kLayer)
        if (role == g) return absl::StrCat("model.layers.", layer, ".", h);
    }
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
  auto eager = BuildEager(m.config, m.weights);
  if (!eager.ok()) return Prefixed(m.source, eager.status());
  m.eager = *std::move(eager);
  return m;
}

}  // namespace qeff::models
