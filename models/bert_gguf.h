// BERT encoders from GGUF (llama.cpp's `general.architecture = bert`, as
// convert_hf_to_gguf.py writes BertModel checkpoints: BGE, all-MiniLM,
// E5): the `bert.*` hyper-parameters into a BertConfig and the tensors
// into Hugging Face BertModel names (token_embd -> embeddings.word_
// embeddings, blk.N.attn_output_norm -> encoder.layer.N.attention.output.
// LayerNorm, ...). llama.cpp runs BERT's feed-forward with ggml_gelu, the
// tanh approximation, so a GGUF model gets hidden_act "gelu_new" (the file
// does not record the original activation). Rejected with errors naming
// the key or tensor: a causal BERT (bert.attention.causal = true), a
// reranker's classification head (cls.*), any other unknown tensor.
#ifndef QEFF_MODELS_BERT_GGUF_H_
#define QEFF_MODELS_BERT_GGUF_H_

#include <string>

#include "absl/status/status.h"
#include "models/arch/registry.h"
#include "models/gguf.h"

namespace qeff::models {

// nomic-bert too (llama.cpp's `nomic-bert`, nomic-embed-text): `nomic-bert.*`
// keys (rope.freq_base) and NomicBertModel names (attn_qkv ->
// encoder.layers.N.attn.Wqkv, ffn_up/ffn_gate -> mlp.fc11/fc12, ...).

// GGUF tensor name -> BertModel name ("" when not a BERT tensor).
std::string BertGgufToHfName(absl::string_view gguf_name);

// Fills *config (family kBert) and *weights from a `bert` GGUF; `path`
// prefixes errors.
absl::Status BertFromGguf(const GgufFile& f, const std::string& path,
                          ModelConfig* config, WeightMap* weights);

// GGUF tensor name -> NomicBertModel name ("" when not one).
std::string NomicBertGgufToHfName(absl::string_view gguf_name);

// Fills *config (family kNomicBert) and *weights from a `nomic-bert` GGUF.
absl::Status NomicBertFromGguf(const GgufFile& f, const std::string& path,
                               ModelConfig* config, WeightMap* weights);

}  // namespace qeff::models

#endif  // QEFF_MODELS_BERT_GGUF_H_
