// Pieces shared by the models/arch graph builders: weight lookup with shape
// checks (f16/bf16 weights are cast to f32 once, so activations stay f32),
// Linear layers, the causal and sliding-window masks, and scaled dot-product
// attention with the role names of roles.h.
#ifndef QEFF_MODELS_ARCH_BUILDER_UTIL_H_
#define QEFF_MODELS_ARCH_BUILDER_UTIL_H_

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/builder.h"
#include "ir/graph.h"
#include "ir/lm_roles.h"
#include "ir/tensor.h"

namespace qeff::models {

using WeightMap = absl::flat_hash_map<std::string, ir::Tensor>;

// A decoder config's common checks: every field of `positive` > 0
// ("<family> config: <name> must be positive, got <v>"), then
// num_attention_heads a multiple of num_key_value_heads and an even
// head_dim (RoPE rotates pairs).
absl::Status CheckDecoderConfig(
    absl::string_view family,
    std::initializer_list<std::pair<const char*, int64_t>> positive,
    int64_t num_attention_heads, int64_t num_key_value_heads, int64_t head_dim);

class ArchBuilder {
 public:
  // `family` prefixes errors ("llama weights: 'x' is missing").
  ArchBuilder(std::string family, const WeightMap& w, ir::Graph* g)
      : family_(std::move(family)), w_(w), b_(g) {}

  ir::GraphBuilder& b() { return b_; }
  bool Has(const std::string& name) const { return w_.contains(name); }

  // The weight as a graph constant, checked against `dims`; f16/bf16
  // weights go through one Cast to f32 (named `<name>.f32`).
  absl::StatusOr<ir::ValueId> Weight(const std::string& name,
                                     const std::vector<int64_t>& dims);
  // x @ W^T (+ bias) for an HF Linear weight [out, in].
  ir::ValueId Linear(ir::ValueId x, ir::ValueId w, ir::ValueId bias,
                     const std::string& name);
  // HF RMSNorm over the last axis: x * rsqrt(mean(x^2) + eps) * w
  // (LlamaRMSNorm; Gemma's `(1 + weight)` form passes the shifted weight).
  ir::ValueId RmsNorm(ir::ValueId x, ir::ValueId w, float eps,
                      const std::string& name);
  // x @ W (+ bias) for an HF Conv1D weight [in, out] (GPT-2).
  ir::ValueId Conv1D(ir::ValueId x, ir::ValueId w, ir::ValueId bias,
                     const std::string& name);

  // (x - mean) / sqrt(var + eps) over the last axis (biased variance), as
  // HF's LayerNorm / GroupNorm compute it before the affine part; values
  // `<name>.mean`, `.centered`, `.sq`, `.variance`, `.var_eps`, `.std`,
  // `.normed` (returned).
  ir::ValueId NormalizeLastAxis(ir::ValueId x, float eps,
                                const std::string& name);

  // Inputs input_ids / position_ids i64[batch_size, seq_len].
  void AddTokenInputs();
  ir::ValueId input_ids() const { return input_ids_; }
  ir::ValueId position_ids() const { return position_ids_; }

  // Inputs input_ids / attention_mask i64[batch_size, seq_len] of an
  // encoder (DESIGN.md "Contracts": embeddings).
  void AddEncoderInputs();
  ir::ValueId attention_mask() const { return attention_mask_; }
  // The encoder's key-padding mask, bool [B, 1, S, S]: key j is masked for
  // every query when attention_mask[b, j] < 1 (built once).
  ir::ValueId PaddingMask();
  // Rows 0..seq_len-1 of a [rows, D] table (positions of an encoder input),
  // [seq_len, D]; a seq_len past `rows` fails at shape inference.
  ir::ValueId FirstRows(ir::ValueId table, const std::string& name);

  // Hugging Face nn.LayerNorm over the last dim of size `dim` with weights
  // `<prefix>.weight` / `<prefix>.bias`: (x - mean) / sqrt(var + eps) * w + b.
  absl::StatusOr<ir::ValueId> LayerNorm(ir::ValueId x,
                                        const std::string& prefix, int64_t dim,
                                        float eps, const std::string& name);
  // GELU: exact 0.5 x (1 + erf(x / sqrt 2)) or, with `tanh_approx`, HF's
  // gelu_new 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  ir::ValueId Gelu(ir::ValueId x, bool tanh_approx, const std::string& name);

  // x * cos + rotate_half(x) * sin for x [..., D] (HF's rotate-half RoPE,
  // llama.cpp's NEOX); cos/sin broadcast to x; `half` = D / 2.
  ir::ValueId ApplyRotateHalfRope(ir::ValueId x, ir::ValueId cos,
                                  ir::ValueId sin, int64_t half,
                                  const std::string& name);

  // model.causal_mask (roles.h).
  ir::ValueId CausalMask();
  // model.sliding_window_mask for window `w` (roles.h); built once.
  ir::ValueId SlidingWindowMask(int64_t w);
  // model.chunked_attention_mask for attention chunk `c` (roles.h: key j is
  // masked for a query at p when j > p or j < (p / c) * c); built once.
  ir::ValueId ChunkedMask(int64_t c);

  // Attention of q [B, nh, S, D] over k, v [B, nkv, S, D] (repeated to nh
  // heads when nkv < nh) with `mask`; returns the merged context
  // [B, S, nh*D]. Values are named `<prefix>.qk`, `.scores`,
  // `.masked_scores`, `.probs`, `.context`, ... With `softcap` > 0 the
  // scaled scores are soft-capped before the mask: softcap *
  // tanh(scores * (1 / softcap)) (`.capped_in`, `.capped_tanh`, `.capped`).
  ir::ValueId Attention(ir::ValueId q, ir::ValueId k, ir::ValueId v,
                        ir::ValueId mask, int64_t nh, int64_t nkv, int64_t d,
                        float scale, const std::string& prefix,
                        float softcap = 0.0f);

 private:
  ir::ValueId RepeatKv(ir::ValueId x, int64_t nh, int64_t nkv, int64_t d,
                       const std::string& name);

  std::string family_;
  const WeightMap& w_;
  ir::GraphBuilder b_;
  ir::ValueId input_ids_ = ir::kNoValue, position_ids_ = ir::kNoValue;
  ir::ValueId attention_mask_ = ir::kNoValue, padding_mask_ = ir::kNoValue;
  ir::ValueId causal_ = ir::kNoValue, window_ = ir::kNoValue;
  int64_t window_size_ = 0;
  ir::ValueId chunked_ = ir::kNoValue;
  int64_t chunk_size_ = 0;
};

}  // namespace qeff::models

#endif  // QEFF_MODELS_ARCH_BUILDER_UTIL_H_
