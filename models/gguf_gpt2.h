// GPT-2 from a GGUF file (`general.architecture` gpt2, as llama.cpp's
// convert_hf_to_gguf.py writes it and llama.cpp's llama_model_gpt2 reads
// it): the config from `gpt2.*` keys and the weights under the HF names the
// GPT-2 builder expects. The converter transposes HF's Conv1D weights to
// [out, in], so the config says `linear_weights` and quantized blocks are
// used as stored. llama.cpp runs GPT-2's MLP with its tanh GELU, so the
// activation is gelu_new. Does not read the tokenizer (models::Load does).
#ifndef QEFF_MODELS_GGUF_GPT2_H_
#define QEFF_MODELS_GGUF_GPT2_H_

#include <string>

#include "absl/status/status.h"
#include "models/arch/registry.h"
#include "models/gguf.h"

namespace qeff::models {

// Fills `config` (family gpt2) and `weights`; errors name the file and the
// key or tensor (a missing or unexpected tensor, grouped-query heads).
absl::Status Gpt2FromGguf(const GgufFile& f, const std::string& path,
                          ModelConfig* config, WeightMap* weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_GGUF_GPT2_H_
