// Row layouts of the query/key projections of Llama-family checkpoints.
//
// Rotary embeddings rotate pairs of features within each head. Hugging Face
// (`rotate_half`) pairs feature i with i + head_dim/2 ("half" layout). Meta's
// original checkpoints, llama2.c `.bin` files and llama.cpp's GGUF files pair
// feature 2i with 2i+1 ("interleaved" layout, GPT-J style): llama.cpp's
// convert_hf_to_gguf.py permutes the rows of q_proj/k_proj with
//   permute(w, n_head) = w.reshape(n_head, 2, hd/2, *rest)
//                         .swapaxes(1, 2).reshape(w.shape)
// (n_head = num_attention_heads for Q, num_key_value_heads for K) so that its
// adjacent-pair rope computes the same thing as HF's rotate_half; llama2.c's
// export.py applies the same permutation when it reads a HF model.
//
// A graph builder that uses HF's rotate_half must therefore un-permute the
// rows of Q and K weights read from GGUF or llama2.c files: within each head,
// the new row order is [0, 2, 4, ..., hd-2, 1, 3, ..., hd-1] of the old rows.
// Alternatively it keeps the file's layout and uses an interleaved rotary.
#ifndef QEFF_MODELS_ROPE_LAYOUT_H_
#define QEFF_MODELS_ROPE_LAYOUT_H_

#include "absl/status/statusor.h"
#include "ir/tensor.h"

namespace qeff::models {

enum class RopeLayout {
  kHalf,         // Hugging Face rotate_half: pairs (i, i + hd/2)
  kInterleaved,  // Meta / llama2.c / GGUF: pairs (2i, 2i+1)
};

// Interleaved -> half (the inverse of llama.cpp's `permute`). `w`'s first
// dim is n_head * head_dim (a [out, in] weight or an [out] bias); head_dim
// must be even. Rows move whole, so the result keeps w's dtype and any block
// quantization (GGUF K-quants included) bit for bit; it is a new owned
// tensor (the one copy a loader is allowed).
absl::StatusOr<ir::Tensor> UnpermuteQK(const ir::Tensor& w, int n_head);

// Half -> interleaved: llama.cpp's `permute`. For writers and tests.
absl::StatusOr<ir::Tensor> PermuteQK(const ir::Tensor& w, int n_head);

}  // namespace qeff::models

#endif  // QEFF_MODELS_ROPE_LAYOUT_H_
