#include "models/gguf_gpt2.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace qeff::models {
namespace {

// GGUF name (llama.cpp's LLM_ARCH_GPT2 tensors) → HF GPT-2 name.
std::string Gpt2HfName(absl::string_view g) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"token_embd.weight", "wte.weight"},
      {"position_embd.weight", "wpe.weight"},
      {"output_norm.weight", "ln_f.weight"},
      {"output_norm.bias", "ln_f.bias"},
      {"output.weight", "lm_head.weight"},
  };
  for (const auto& [gg, h] : kTop)
    if (g == gg) return h;
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm", "ln_1"},          {"attn_qkv", "attn.c_attn"},
      {"attn_output", "attn.c_proj"}, {"ffn_norm", "ln_2"},
      {"ffn_up", "mlp.c_fc"},         {"ffn_down", "mlp.c_proj"},
  };
  absl::string_view layer, role;
  if (!SplitGgufBlockName(g, &layer, &role)) return "";
  for (const auto& [gg, h] : kLayer) {
    for (const char* suffix : {".weight", ".bias"}) {
      if (role == absl::StrCat(gg, suffix))
        return absl::StrCat("h.", layer, ".", h, suffix);
    }
  }
  return "";
}

}  // namespace

absl::Status Gpt2FromGguf(const GgufFile& f, const std::string& path,
                          ModelConfig* config, WeightMap* weights) {
  Gpt2Config c;
  c.linear_weights = true;
  c.activation_function = "gelu_new";
  QEFF_ASSIGN_OR_RETURN(c.n_embd, f.GetInt("gpt2.embedding_length"));
  QEFF_ASSIGN_OR_RETURN(c.n_layer, f.GetInt("gpt2.block_count"));
  QEFF_ASSIGN_OR_RETURN(c.n_head, f.GetInt("gpt2.attention.head_count"));
  QEFF_ASSIGN_OR_RETURN(c.n_positions, f.GetInt("gpt2.context_length"));
  if (f.Has("gpt2.feed_forward_length")) {
    QEFF_ASSIGN_OR_RETURN(c.n_inner, f.GetInt("gpt2.feed_forward_length"));
  }
  if (f.Has("gpt2.attention.layer_norm_epsilon")) {
    QEFF_ASSIGN_OR_RETURN(c.layer_norm_epsilon,
                          f.GetF32("gpt2.attention.layer_norm_epsilon"));
  }
  if (f.Has("gpt2.attention.head_count_kv")) {
    QEFF_ASSIGN_OR_RETURN(int64_t kv, f.GetInt("gpt2.attention.head_count_kv"));
    if (kv != c.n_head) {
      return absl::UnimplementedError(
          absl::StrCat(path, ": gpt2.attention.head_count_kv ", kv,
                       " differs from gpt2.attention.head_count ", c.n_head,
                       " (grouped-query GPT-2 is not supported)"));
    }
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    std::string hf = Gpt2HfName(t.name);
    if (hf.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unexpected tensor '", t.name, "' for gpt2"));
    }
    (*weights)[hf] = t.tensor;
  }
  auto wte = weights->find("wte.weight");
  if (wte == weights->end() || wte->second.rank() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no 2-D tensor 'token_embd.weight'"));
  }
  c.vocab_size = wte->second.dims()[0];
  if (auto st = c.Validate(); !st.ok())
    return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  ModelConfig m;
  m.family = ModelFamily::kGpt2;
  m.model_type = "gpt2";
  m.architecture = "GPT2LMHeadModel";
  m.gpt2 = c;
  FillCommon(&m);
  *config = std::move(m);
  return absl::OkStatus();
}

}  // namespace qeff::models
