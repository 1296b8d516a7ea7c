// Reading a llama.cpp `llama4` GGUF into Llama4Config + HF-named weights,
// taking every value exactly as llama.cpp's loader does (src/models/
// llama4.cpp, load_arch_hparams, and its graph): the attention chunk is
// fixed at 8192 and the temperature tuning at floor 8192, scale 0.1 (not
// read from the file); chunked layers follow a scalar
// `llama4.attention.sliding_window_pattern` (default 4; an array is
// ignored, as llama.cpp ignores it); NoPE layers are every 4th layer
// (llama.cpp's n_no_rope_layer_step, fixed), with temperature tuning;
// L2 Q/K norm on RoPE layers unless the model has 128 experts (llama.cpp:
// "the 128E model does not use qk_norm"); MoE layers from
// `llama4.interleave_moe_layer_step`, experts of
// `llama4.expert_feed_forward_length` (also the shared expert's size),
// dense layers of `llama4.feed_forward_length`; the attention scale
// 1/sqrt(head_dim); llama3 RoPE scaling as the `rope_freqs.weight`
// factors. Q/K rows are stored as in HF (convert_hf_to_gguf.py does not
// permute llama4) and the builder permutes them as for HF folders.
//
// Refused by name: `llama4.attention.sliding_window` = 0 (all layers full,
// MobileLLM-style: llama.cpp then makes the last layer NoPE with no
// temperature values set), a `rope.freq_base_swa` that differs from
// `rope.freq_base`, zero experts (llama.cpp refuses them too).
#ifndef QEFF_MODELS_GGUF_LLAMA4_H_
#define QEFF_MODELS_GGUF_LLAMA4_H_

#include <string>

#include "absl/status/status.h"
#include "models/arch/registry.h"
#include "models/gguf.h"

namespace qeff::models {

// Fills `config` (family kLlama4) and `weights` (HF names) from `f`; errors
// name `path` and the key or tensor.
absl::Status Llama4FromGguf(const GgufFile& f, const std::string& path,
                            ModelConfig* config, WeightMap* weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_GGUF_LLAMA4_H_
