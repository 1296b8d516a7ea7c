// Seeded test encoders: a BERT (BertModel) or nomic-bert with random weights
// from a fixed seed (mt19937_64, uniform, so the same seed gives the same bytes
// on every machine), written as a Hugging Face folder (config.json,
// model.safetensors, tokenizer.json) and/or a llama.cpp `bert` GGUF with the
// same weights and vocabulary. The vocabulary is a real one taken from a GGUF's
// tokenizer.ggml.* (e.g. llama.cpp's models/ggml-vocab-bert-bge.gguf) or a
// small built-in WordPiece vocabulary (lowercase letters and a few words).
#ifndef QEFF_MODELS_TEST_ENCODER_H_
#define QEFF_MODELS_TEST_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace qeff::models {

struct TestBertSpec {
  // "bert" (BertModel) or "nomic-bert" (NomicBertModel: RoPE, SwiGLU,
  // fused Wqkv, no biases; hidden_act does not apply).
  std::string arch = "bert";
  float rope_theta = 1000.0f;  // nomic-bert
  uint64_t seed = 7;
  int64_t hidden_size = 32;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t intermediate_size = 64;
  int64_t max_position_embeddings = 128;
  int64_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  // "gelu" (HF BERT's erf GELU) or "gelu_new" (tanh, what llama.cpp runs).
  std::string hidden_act = "gelu";
  // A GGUF whose tokenizer.ggml.* (WordPiece) to use; empty: built-in.
  std::string vocab_gguf;
};

// Writes `dir` (created if needed): config.json, model.safetensors,
// tokenizer.json and tokenizer_config.json.
absl::Status WriteTestBertHf(const TestBertSpec& spec, const std::string& dir);
// Writes a `bert` GGUF with the same weights and vocabulary.
absl::Status WriteTestBertGguf(const TestBertSpec& spec,
                               const std::string& path);

}  // namespace qeff::models

#endif  // QEFF_MODELS_TEST_ENCODER_H_
