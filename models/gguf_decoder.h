// What llama.cpp decoder GGUFs (gemma3, llama4, ...) state the same way, read
// once: `{arch}.embedding_length`, `.feed_forward_length`, `.block_count`,
// `.attention.head_count` / `.head_count_kv` (default: head_count),
// `.attention.key_length` (default n_embd / n_head; a different
// `.value_length` or `.rope.dimension_count` is refused: no partial
// rotary), `.attention.layer_norm_rms_epsilon` (required),
// `.rope.freq_base` (default 10000, llama.cpp's), `.context_length`
// (optional), `.rope.scaling.type` none or linear with `.rope.scaling.factor`
// (others refused by name). And the tensor-name map: token_embd /
// output_norm / output and `blk.N.<role>` to Hugging Face names.
#ifndef QEFF_MODELS_GGUF_DECODER_H_
#define QEFF_MODELS_GGUF_DECODER_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "models/arch/llama.h"
#include "models/gguf.h"

namespace qeff::models {

struct GgufDecoderHparams {
  int64_t hidden_size = 0;
  int64_t feed_forward_length = 0;
  int64_t block_count = 0;
  int64_t head_count = 0;
  int64_t head_count_kv = 0;
  int64_t head_dim = 0;
  int64_t context_length = 0;  // 0: absent
  float rms_norm_eps = 0;
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;  // none or linear
};

// Errors name `path` and the key.
absl::StatusOr<GgufDecoderHparams> ReadGgufDecoderHparams(
    const GgufFile& f, const std::string& path, const std::string& arch);

// {GGUF block role, HF name under model.layers.N}, e.g.
// {"attn_q.weight", "self_attn.q_proj.weight"}.
using GgufRoleName = std::pair<const char*, const char*>;
// token_embd.weight → model.embed_tokens.weight, output_norm.weight →
// model.norm.weight, output.weight → lm_head.weight, blk.N.<role> →
// model.layers.N.<layer_map[role]>; "" for any other name.
std::string GgufDecoderHfName(absl::string_view gguf_name,
                              absl::Span<const GgufRoleName> layer_map);

}  // namespace qeff::models

#endif  // QEFF_MODELS_GGUF_DECODER_H_
