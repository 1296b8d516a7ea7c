// The architecture registry: which model families qeff builds, found by
// Hugging Face `model_type` / `architectures` (config.json) or GGUF
// `general.architecture`, and the parsing of config.json into a
// ModelConfig. Unknown architectures are an error listing the supported
// ones.
//
// Supported: llama (LlamaForCausalLM), mistral (MistralForCausalLM), qwen2
// (Qwen2ForCausalLM), qwen3 (Qwen3ForCausalLM), mixtral (MixtralForCausalLM),
// qwen3_moe (Qwen3MoeForCausalLM), phi3 (Phi3ForCausalLM) — one Llama-family
// builder — gpt2 (GPT2LMHeadModel), gemma3_text (Gemma3ForCausalLM; gemma3,
// Gemma3ForConditionalGeneration, loads its text part), llama4_text
// (Llama4ForCausalLM; llama4, Llama4ForConditionalGeneration, loads its
// text part), wav2vec2 / hubert
// (Wav2Vec2ForCTC, Wav2Vec2ForSequenceClassification, HubertForCTC,
// HubertForSequenceClassification; one model_type, several classes), and
// grok-1 (Grok1ModelForCausalLM, HPC-AI Tech's custom code), the encoders
// bert (BertModel; config.json's architectures may name any
// Bert* head class, whose head is dropped) and nomic_bert (NomicBertModel).
#ifndef QEFF_MODELS_ARCH_REGISTRY_H_
#define QEFF_MODELS_ARCH_REGISTRY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "ir/graph.h"
#include "models/arch/bert.h"
#include "models/arch/gemma3.h"
#include "models/arch/gpt2.h"
#include "models/arch/grok.h"
#include "models/arch/llama.h"
#include "models/arch/llama4.h"
#include "models/arch/nomic_bert.h"
#include "models/arch/wav2vec2.h"

namespace qeff::models {

enum class ModelFamily {
  kLlama,
  kGpt2,
  kGemma3,
  kWav2Vec2,
  kBert,
  kNomicBert,
  kLlama4,
  kGrok,
};

// A parsed model config. The common numbers are filled for every family
// (the engine sizes caches and checks ids with them); the family's own
// config holds the rest.
struct ModelConfig {
  ModelFamily family = ModelFamily::kLlama;
  std::string model_type;    // "llama", "mistral", "qwen2", "gpt2"
  std::string architecture;  // HF class, e.g. "LlamaForCausalLM"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  GrokConfig grok;  // family kGrok
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  LlamaConfig llama;           // family kLlama
  Gpt2Config gpt2;             // family kGpt2
  BertConfig bert;             // family kBert (an encoder: QEFFAutoModel)
  NomicBertConfig nomic_bert;  // family kNomicBert (an encoder)
  Gemma3Config gemma3;         // family kGemma3
  Llama4Config llama4;         // family kLlama4
  // family kWav2Vec2 (wav2vec2, hubert)
  Wav2Vec2Config wav2vec2;
};

ModelConfig FromGrokConfig(const GrokConfig& c);
// Whether the family is an encoder (QEFFAutoModel's models).
inline bool IsEncoderFamily(ModelFamily f) {
  return f == ModelFamily::kBert || f == ModelFamily::kNomicBert;
}

// Fills the common numbers from the family config.
void FillCommon(ModelConfig* config);
ModelConfig FromLlamaConfig(const LlamaConfig& c,
                            std::string model_type = "llama");
ModelConfig FromGemma3Config(const Gemma3Config& c);
ModelConfig FromLlama4Config(const Llama4Config& c);

struct ArchInfo {
  std::string model_type;    // HF model_type
  std::string architecture;  // HF class name
  ModelFamily family;
  std::vector<std::string> gguf_architectures;
};
const std::vector<ArchInfo>& SupportedArchitectures();
// "llama (LlamaForCausalLM), mistral (...), ..." for error messages.
std::string SupportedArchitecturesText();

// config.json → ModelConfig. `source` (the file) prefixes errors; a missing
// required field or an unsupported option (e.g. an unknown rope_scaling
// type) is an error naming the field.
absl::StatusOr<ModelConfig> ParseHfModelConfig(const base::JsonValue& config,
                                               const std::string& source);

// The eager graph for any supported family.
absl::StatusOr<ir::Graph> BuildEager(const ModelConfig& config,
                                     const WeightMap& weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_REGISTRY_H_
