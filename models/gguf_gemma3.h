// Reading a llama.cpp `gemma3` GGUF into Gemma3Config + HF-named weights,
// taking every value exactly as llama.cpp's loader does (src/models/
// gemma3.cpp, load_arch_hparams): the sliding window from
// `gemma3.attention.sliding_window` (absent or 0: no local layers), the
// layer pattern from a scalar `gemma3.attention.sliding_window_pattern`
// (default 6; an array form is ignored, as llama.cpp ignores it), the local
// RoPE base from `gemma3.rope.freq_base_swa` (default 10000) with no
// scaling, `gemma3.final_logit_softcapping`, and the attention scale that
// llama.cpp fixes by model size: 1/sqrt(n_embd / n_head) for the 62-layer
// (27B) model, 1/sqrt(head_dim) otherwise — not `query_pre_attn_scalar`,
// which the GGUF does not carry. Embeddings are scaled by sqrtf(n_embd);
// norm weights are stored already shifted by one (convert_hf_to_gguf adds
// it), so the builder adds nothing. Gemma 3 rotates NEOX-style (HF's
// rotate-half), so Q/K rows are stored as in HF and not un-permuted.
#ifndef QEFF_MODELS_GGUF_GEMMA3_H_
#define QEFF_MODELS_GGUF_GEMMA3_H_

#include <string>

#include "absl/status/status.h"
#include "models/arch/registry.h"
#include "models/gguf.h"

namespace qeff::models {

// Fills `config` (family kGemma3) and `weights` (HF names) from `f`; errors
// name `path` and the key or tensor.
absl::Status Gemma3FromGguf(const GgufFile& f, const std::string& path,
                            ModelConfig* config, WeightMap* weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_GGUF_GEMMA3_H_
