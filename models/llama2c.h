// llama2.c checkpoint (`.bin`, legacy version-0 format) and tokenizer
// (`tokenizer.bin`) readers.
//
// Checkpoint layout: 7 int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means the output
// classifier is not shared with the embedding), then f32 weights in this
// order, each stacked over layers:
//   token_embedding_table [vocab, dim]
//   rms_att_weight [L, dim]   wq [L, dim, dim]   wk [L, kv_dim, dim]
//   wv [L, kv_dim, dim]       wo [L, dim, dim]   rms_ffn_weight [L, dim]
//   w1 [L, hidden, dim]       w2 [L, dim, hidden]   w3 [L, hidden, dim]
//   rms_final_weight [dim]
//   freq_cis_real [seq_len, head_size/2]   freq_cis_imag [same]
//   wcls [vocab, dim]         (only when vocab_size < 0)
// with kv_dim = dim * n_kv_heads / n_heads. The file size must be exactly
// what the header implies. The newer version-1/2 formats (magic "ak42") are
// rejected.
//
// Weights become zero-copy ir tensors with Hugging Face Llama names and
// [out, in] shapes: model.embed_tokens.weight, model.layers.{i}.
// input_layernorm.weight, .self_attn.{q,k,v,o}_proj.weight,
// .post_attention_layernorm.weight, .mlp.gate_proj (w1), .mlp.down_proj (w2),
// .mlp.up_proj (w3), model.norm.weight, and lm_head.weight only when the
// classifier is unshared (otherwise the embedding is tied).
//
// RoPE layout: wq/wk rows are in the interleaved (Meta / GPT-J pairs
// (2i, 2i+1)) layout, not HF's rotate_half layout (see rope_layout.h):
// a builder using rotate_half converts them with UnpermuteQK(wq, n_heads)
// and UnpermuteQK(wk, n_kv_heads). `rope_layout` reports kInterleaved.
// The freq_cis tables are kept (as f32 [seq_len, head_size/2]) but a builder
// computes RoPE itself with theta 10000 (llama2.c's value).
#ifndef QEFF_MODELS_LLAMA2C_H_
#define QEFF_MODELS_LLAMA2C_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ir/buffer.h"
#include "ir/tensor.h"
#include "models/rope_layout.h"

namespace qeff::models {

struct Llama2cConfig {
  int dim = 0;
  int hidden_dim = 0;
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int vocab_size = 0;  // always positive here
  int seq_len = 0;
  bool shared_classifier = true;  // header vocab_size > 0
  int head_size() const { return n_heads ? dim / n_heads : 0; }
  int kv_dim() const {  // n_kv_heads <= n_heads: fits, dim * n_kv_heads may not
    return n_heads ? static_cast<int>(int64_t{dim} * n_kv_heads / n_heads) : 0;
  }
};

struct Llama2cCheckpoint {
  std::string path;
  Llama2cConfig config;
  RopeLayout rope_layout = RopeLayout::kInterleaved;
  // HF-named weights in file order.
  std::vector<std::pair<std::string, ir::Tensor>> weights;
  ir::Tensor freq_cis_real;
  ir::Tensor freq_cis_imag;

  const ir::Tensor* Find(absl::string_view name) const;
  // The weight, or NotFound naming the file and tensor.
  absl::StatusOr<ir::Tensor> Get(absl::string_view name) const;
};

absl::StatusOr<Llama2cCheckpoint> ReadLlama2c(const std::string& path);

// One vocabulary entry of a llama2.c tokenizer.bin.
struct Llama2cToken {
  std::string piece;  // raw bytes as stored (llama2.c writes ' ' for '▁')
  float score = 0;
};

struct Llama2cVocab {
  std::string path;
  int32_t max_token_length = 0;
  std::vector<Llama2cToken> tokens;
};

// Reads `tokenizer.bin`: int32 max_token_length, then for each token
// float32 score, int32 length, bytes. The number of tokens is not stored:
// the file is read to its end (callers check it against the model's vocab).
absl::StatusOr<Llama2cVocab> ReadLlama2cTokenizer(const std::string& path);

}  // namespace qeff::models

#endif  // QEFF_MODELS_LLAMA2C_H_
