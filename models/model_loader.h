// models::Load: from a path to the eager graph, its config and weights (and,
// where the checkpoint carries one, its tokenizer). Dispatches on the path:
//  - a folder: a Hugging Face model folder (config.json, model.safetensors
//    or a sharded model.safetensors.index.json, generation_config.json and
//    tokenizer_config.json when present);
//  - `*.gguf`: GGUF v3 with `general.architecture` llama (also Mistral
//    converted by llama.cpp), qwen2, qwen3 or gpt2 (models/gguf_gpt2.h);
//  - llama2.c `*.bin` (+ a separate tokenizer.bin);
//  - anything else that looks like `ORG/NAME[@REV]`: a model in the offline
//    Hugging Face hub cache (models/hf_hub.h), loaded as a folder.
// Weights stay memory-mapped; Q/K rows stored in the interleaved RoPE layout
// (GGUF llama, llama2.c) are un-permuted into HF's layout (the one allowed
// copy). Architectures: see models/arch/registry.h.
//
// Tokenizers: LoadOptions::tokenizer_path, when given, wins (anything
// LoadTokenizer opens: .gguf, tokenizer.bin, tokenizer.json, a folder).
// Otherwise GGUF files carry theirs (SentencePiece, byte-level BPE or
// WordPiece, as tokenizer.ggml.model says) and HF folders load their
// tokenizer.json (+ tokenizer_config.json; models/hf_tokenizer.h); an HF
// folder without tokenizer.json and llama2.c files without tokenizer_path
// load with a null tokenizer.
#ifndef QEFF_MODELS_MODEL_LOADER_H_
#define QEFF_MODELS_MODEL_LOADER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/registry.h"
#include "models/hf_config.h"
#include "models/tokenizer.h"

namespace qeff::models {

struct LoadOptions {
  // A tokenizer for checkpoints without their own, or to override theirs:
  // anything LoadTokenizer opens; empty: the checkpoint's own (if any).
  std::string tokenizer_path;
  // Hub cache for ORG/NAME ids; empty: DefaultHubCacheDir().
  std::string hub_cache_dir;
};

struct LoadedModel {
  std::string source;        // the path loaded (the snapshot for hub ids)
  std::string architecture;  // HF class name, e.g. "LlamaForCausalLM"
  ModelConfig config;
  std::optional<GenerationConfig> generation;  // HF folders that have one
  std::optional<TokenizerConfig> tokenizer_config;
  WeightMap weights;                     // HF names
  std::unique_ptr<Tokenizer> tokenizer;  // null when none was found
  ir::Graph eager;
};

absl::StatusOr<LoadedModel> Load(const std::string& path,
                                 const LoadOptions& options = {});

// GGUF tensor name → HF name for a llama-family file ("" if unknown).
std::string GgufToHfName(absl::string_view gguf_name);

}  // namespace qeff::models

#endif  // QEFF_MODELS_MODEL_LOADER_H_
