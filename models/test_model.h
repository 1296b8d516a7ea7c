// Seeded test models: a Llama-family checkpoint with random weights drawn
// from a fixed seed (std::mt19937_64 + Box-Muller, so the same seed gives the
// same bytes on every machine) and a small SentencePiece-style vocabulary
// (control tokens, 256 byte-fallback tokens, letters and whole English words
// with their prefixes), written as one GGUF file. Used by the quick start
// (`bazel run //tools:infer` with no --model) and by tests.
#ifndef QEFF_MODELS_TEST_MODEL_H_
#define QEFF_MODELS_TEST_MODEL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "models/arch/llama.h"

namespace qeff::models {

struct TestModelSpec {
  uint64_t seed = 42;
  int64_t hidden_size = 64;
  int64_t intermediate_size = 176;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  int64_t max_position_embeddings = 256;
  bool tie_word_embeddings = false;
};

// The vocabulary's pieces (index = token id) and scores; shared by the
// writer and tests.
struct TestVocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int32_t>
      types;  // GGUF token types: 1 normal, 2 unk, 3 control, 6 byte
};
TestVocab MakeTestVocab();

// Writes the model as GGUF (atomically). Q/K rows are stored in llama.cpp's
// interleaved layout, as real GGUF files are.
absl::Status WriteTestModelGguf(const TestModelSpec& spec,
                                const std::string& path);

// The same weights in HF names and layout (for in-memory tests).
WeightMap MakeTestWeights(const TestModelSpec& spec, LlamaConfig* config);

}  // namespace qeff::models

#endif  // QEFF_MODELS_TEST_MODEL_H_
