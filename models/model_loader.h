// models::Load: from a path to the eager graph, its config and weights (and,
// where the checkpoint carries one, its tokenizer). Dispatches on the file:
//  - `*.gguf`: GGUF v3 with `general.architecture` = llama;
//  - llama2.c `*.bin` (+ a separate tokenizer.bin).
// Weights stay memory-mapped; Q/K rows stored in the interleaved RoPE layout
// (GGUF, llama2.c) are un-permuted into HF's layout (the one allowed copy).
// Hugging Face folders come with the models issue.
#ifndef QEFF_MODELS_MODEL_LOADER_H_
#define QEFF_MODELS_MODEL_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "models/arch/llama.h"
#include "models/tokenizer.h"

namespace qeff::models {

struct LoadOptions {
  // A llama2.c tokenizer.bin (or a .gguf holding a vocabulary) for
  // checkpoints without their own tokenizer; empty: none.
  std::string tokenizer_path;
};

struct LoadedModel {
  std::string source;        // the path loaded
  std::string architecture;  // HF class name, e.g. "LlamaForCausalLM"
  LlamaConfig config;
  WeightMap weights;                     // HF names
  std::unique_ptr<Tokenizer> tokenizer;  // null when none was found
  ir::Graph eager;
};

absl::StatusOr<LoadedModel> Load(const std::string& path,
                                 const LoadOptions& options = {});

}  // namespace qeff::models

#endif  // QEFF_MODELS_MODEL_LOADER_H_
