// Role names: the value names every causal-LM builder (models/arch) gives
// the sites passes::TransformLM rewrites. They live in ir/ so that both the
// builders above and the passes beside them read one list without passes/
// depending on models/. A builder of any family (Llama,
// Mistral, Qwen2, GPT-2, ...) names these values exactly so, whatever it
// calls the rest of its graph, and transform_lm works unchanged.
//
//  - KeyRot(i)  `model.layers.{i}.self_attn.k_rot`: layer i's keys after any
//    positional processing (post-RoPE; GPT-2: the plain keys), f32
//    [B, n_kv, S, D], before any GQA repeat. Every reader of it reads it as
//    "all keys the query may attend to".
//  - Value(i)   `model.layers.{i}.self_attn.v`: layer i's values, same shape.
//  - kCausalMask `model.causal_mask`: bool [B, 1, S, S], true = masked
//    (key position > query position); attention applies it as
//    Where(mask, kMaskedScore, scores) before Softmax.
//  - kSlidingWindowMask `model.sliding_window_mask` (only in graphs with a
//    windowed layer): bool [B, 1, S, S], true = masked, for a query at
//    position p and a key at position j: j > p OR j <= p - W. Windowed
//    layers' Where reads it instead of kCausalMask; full-attention layers
//    keep reading kCausalMask.
//  - kSlidingWindow `model.sliding_window`: an i64 scalar constant holding W
//    (present iff kSlidingWindowMask is).
//  - kChunkedMask `model.chunked_attention_mask` (only in graphs with a
//    chunked-attention layer, Llama 4): bool [B, 1, S, S], true = masked,
//    for a query at position p and a key at position j: j > p OR
//    j < floor(p / C) * C (C = the attention chunk; positions are >= 0, so
//    the floor is an int64 Div). Chunked layers' Where reads it.
//  - kAttentionChunk `model.attention_chunk`: an i64 scalar constant holding
//    C (present iff kChunkedMask is).
//  - kFinalHidden `model.norm_out`: the final normed hidden [B, S, H], read
//    only by the lm_head.
//  - kLogits `logits`: f32 [B, S, vocab], the graph output.
// What transform_lm must do for a window: replace every use of
// kSlidingWindowMask by the cache-slot mask
//   Or(slot > p, slot <= p - W)      (slot in 0..ctx_len-1, p = position_ids)
// exactly as it replaces kCausalMask by (slot > p). A windowed layer is one
// whose `model.layers.{i}.self_attn.masked_scores` Where reads
// kSlidingWindowMask. Likewise a chunk: every use of kChunkedMask becomes
//   Or(slot > p, slot < (p / C) * C)
// (full-length caches; the chunk is a mask, not a ring of C slots).
#ifndef QEFF_IR_LM_ROLES_H_
#define QEFF_IR_LM_ROLES_H_

#include <string>

namespace qeff::ir {

struct LmRoles {
  static std::string KeyRot(int layer);        // k after RoPE [B, n_kv, S, D]
  static std::string Value(int layer);         // v [B, n_kv, S, D]
  static std::string MaskedScores(int layer);  // the Where applying a mask
  static constexpr const char* kCausalMask =
      "model.causal_mask";  // bool [B,1,S,S], true = masked
  static constexpr const char* kSlidingWindowMask = "model.sliding_window_mask";
  static constexpr const char* kSlidingWindow = "model.sliding_window";
  static constexpr const char* kChunkedMask = "model.chunked_attention_mask";
  static constexpr const char* kAttentionChunk = "model.attention_chunk";
  static constexpr const char* kFinalHidden = "model.norm_out";  // [B, S, H]
  static constexpr const char* kLogits = "logits";
};

// The large finite score given to masked attention slots (never -inf).
inline constexpr float kMaskedScore = -10000.0f;

}  // namespace qeff::ir

#endif  // QEFF_IR_LM_ROLES_H_
