// Reading a llama.cpp `grok` GGUF into GrokConfig + HF-named weights
// (HPC-AI Tech's Grok1ModelForCausalLM names), taking every value exactly as
// llama.cpp's loader does (src/models/grok.cpp, load_arch_hparams and
// llama-graph.cpp's attention): `grok.embedding_scale` (default
// 78.38367176906169), `grok.attention.output_scale` (default
// 0.08838834764831845; it multiplies q·k and llama.cpp adds no 1/sqrt(d)),
// `grok.attn_logit_softcapping` (default 30), `grok.logit_scale` (default
// 0.5773502691896257), `grok.final_logit_softcapping` (default 0: none),
// `grok.expert_feed_forward_length` (default: feed_forward_length). The
// router soft-cap and attention temperature length keys are read but not
// used by llama.cpp's graph, so they change nothing here either. The experts
// run as llama.cpp runs them: softmax routing with the selected weights
// renormalised (build_moe_ffn's norm_w) and ggml_gelu, the tanh GELU.
// Grok rotates NEOX-style (HF's rotate-half) and convert_hf_to_gguf.py does
// not permute Q/K, so their rows are taken as stored.
//
// Refused by name: Grok-2's dense FFN (ffn_up/gate/down beside the experts),
// rope scaling (YaRN), any tensor llama.cpp's grok does not load.
#ifndef QEFF_MODELS_GGUF_GROK_H_
#define QEFF_MODELS_GGUF_GROK_H_

#include <string>

#include "absl/status/status.h"
#include "models/arch/registry.h"
#include "models/gguf.h"

namespace qeff::models {

// Fills `config` (family kGrok) and `weights` (HF names) from `f`; errors
// name `path` and the key or tensor.
absl::Status GrokFromGguf(const GgufFile& f, const std::string& path,
                          ModelConfig* config, WeightMap* weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_GGUF_GROK_H_
