#include "models/model_loader.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ir/status_macros.h"
#include "models/gguf.h"
#include "models/llama2c.h"
#include "models/rope_layout.h"
#include "models/spm_tokenizer.h"

namespace qeff::models {
namespace {

// GGUF tensor names → HF names for the llama architecture.
std::string HfName(absl::string_view gguf_name) {
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

absl::StatusOr<LoadedModel> LoadGguf(const std::string& path,
                                     const LoadOptions& options) {
  QEFF_ASSIGN_OR_RETURN(GgufFile f, ReadGguf(path));
  QEFF_ASSIGN_OR_RETURN(std::string arch, f.GetString("general.architecture"));
  if (arch != "llama") {
    return absl::UnimplementedError(
        absl::StrCat(path, ": general.architecture '", arch,
                     "' is not supported (supported: llama)"));
  }
  LoadedModel m;
  m.source = path;
  m.architecture = "LlamaForCausalLM";
  LlamaConfig& c = m.config;
  QEFF_ASSIGN_OR_RETURN(c.hidden_size, f.GetInt("llama.embedding_length"));
  QEFF_ASSIGN_OR_RETURN(c.intermediate_size,
                        f.GetInt("llama.feed_forward_length"));
  QEFF_ASSIGN_OR_RETURN(c.num_hidden_layers, f.GetInt("llama.block_count"));
  QEFF_ASSIGN_OR_RETURN(c.num_attention_heads,
                        f.GetInt("llama.attention.head_count"));
  c.num_key_value_heads = c.num_attention_heads;
  if (f.Has("llama.attention.head_count_kv")) {
    QEFF_ASSIGN_OR_RETURN(c.num_key_value_heads,
                          f.GetInt("llama.attention.head_count_kv"));
  }
  if (f.Has("llama.attention.layer_norm_rms_epsilon")) {
    QEFF_ASSIGN_OR_RETURN(c.rms_norm_eps,
                          f.GetF32("llama.attention.layer_norm_rms_epsilon"));
  }
  if (f.Has("llama.rope.freq_base")) {
    QEFF_ASSIGN_OR_RETURN(c.rope_theta, f.GetF32("llama.rope.freq_base"));
  }
  if (f.Has("llama.context_length")) {
    QEFF_ASSIGN_OR_RETURN(c.max_position_embeddings,
                          f.GetInt("llama.context_length"));
  }
  if (f.Has("llama.rope.dimension_count")) {
    QEFF_ASSIGN_OR_RETURN(int64_t rot, f.GetInt("llama.rope.dimension_count"));
    if (c.num_attention_heads > 0 &&
        rot != c.hidden_size / c.num_attention_heads) {
      return absl::UnimplementedError(absl::StrCat(
          path, ": llama.rope.dimension_count ", rot,
          " differs from the head dim (partial rotary is not supported)"));
    }
  }
  if (f.Has("llama.rope.scaling.type")) {
    QEFF_ASSIGN_OR_RETURN(std::string scaling,
                          f.GetString("llama.rope.scaling.type"));
    if (scaling != "none") {
      return absl::UnimplementedError(
          absl::StrCat(path, ": llama.rope.scaling.type '", scaling,
                       "' is not supported yet"));
    }
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    std::string hf = HfName(t.name);
    if (hf.empty()) {
      if (t.name == "rope_freqs.weight") {
        return absl::UnimplementedError(
            absl::StrCat(path,
                         ": tensor 'rope_freqs.weight' (llama3 rope scaling) "
                         "is not supported yet"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unexpected tensor '", t.name, "' for llama"));
    }
    ir::Tensor w = t.tensor;
    if (absl::EndsWith(hf, "q_proj.weight") ||
        absl::EndsWith(hf, "k_proj.weight")) {
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
  if (options.tokenizer_path.empty()) {
    QEFF_ASSIGN_OR_RETURN(m.tokenizer, SpmTokenizer::FromGguf(f));
  }
  return m;
}

absl::StatusOr<LoadedModel> LoadLlama2c(const std::string& path) {
  QEFF_ASSIGN_OR_RETURN(Llama2cCheckpoint ck, ReadLlama2c(path));
  LoadedModel m;
  m.source = path;
  m.architecture = "LlamaForCausalLM";
  const Llama2cConfig& k = ck.config;
  LlamaConfig& c = m.config;
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
      int heads = absl::EndsWith(name, "q_proj.weight")
                      ? m.config.num_attention_heads
                      : m.config.num_key_value_heads;
      QEFF_ASSIGN_OR_RETURN(t, UnpermuteQK(t, heads));
    }
    m.weights[name] = std::move(t);
  }
  return m;
}

}  // namespace

absl::StatusOr<LoadedModel> Load(const std::string& path,
                                 const LoadOptions& options) {
  LoadedModel m;
  if (absl::EndsWith(path, ".gguf")) {
    QEFF_ASSIGN_OR_RETURN(m, LoadGguf(path, options));
  } else if (absl::EndsWith(path, ".bin")) {
    QEFF_ASSIGN_OR_RETURN(m, LoadLlama2c(path));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": unknown checkpoint format (expected a .gguf or a llama2.c .bin)"));
  }
  if (!options.tokenizer_path.empty()) {
    QEFF_ASSIGN_OR_RETURN(m.tokenizer, LoadTokenizer(options.tokenizer_path));
  }
  QEFF_ASSIGN_OR_RETURN(m.eager, BuildLlamaEager(m.config, m.weights));
  return m;
}

}  // namespace qeff::models
