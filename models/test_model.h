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
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "models/arch/llama.h"
#include "models/arch/registry.h"
#include "models/hf_tokenizer_writer.h"

namespace qeff::models {

struct TestModelSpec {
  // "llama" (GQA), "mistral" (GQA + sliding window), "qwen2" (GQA, q/k/v
  // biases, tied embeddings), "qwen3" (GQA, per-head q/k RMSNorm, head_dim
  // 32 so heads * head_dim != hidden_size), "mixtral" (llama with routed
  // experts in every layer), "qwen3_moe" (qwen3 with routed experts in
  // every layer), "phi3" (fused qkv / gate_up, longrope, a sliding window),
  // "grok-1" (8 experts of moe_intermediate_size, num_experts_per_tok of
  // them; attention soft-capping active), "gpt2", "gemma3_text" or
  // "llama4_text" (four layers: dense and MoE with a shared expert, chunked
  // RoPE and NoPE layers, chunk 8, temperature floor 4; its experts use
  // num_experts and moe_intermediate_size, top-1). The sizes below apply to
  // all.
  std::string arch = "llama";
  uint64_t seed = 42;
  int64_t hidden_size = 64;
  int64_t intermediate_size = 176;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  int64_t max_position_embeddings = 256;
  int64_t head_dim = 0;  // llama family: 0 = hidden / heads (qwen3: 32)
  // mixtral / qwen3_moe: experts per layer, per token; qwen3_moe's expert
  // size and norm_topk_prob (mixtral: experts of intermediate_size, always
  // renormalised).
  int64_t num_experts = 4;
  int64_t num_experts_per_tok = 2;
  int64_t moe_intermediate_size = 64;
  bool norm_topk_prob = true;
  // qwen3_moe: layers that keep a dense MLP (HF mlp_only_layers; HF folder
  // only: llama.cpp's qwen3moe has experts in every layer).
  std::vector<int64_t> mlp_only_layers;
  // GGUF output, non-llama architectures: q/k/v (and their biases) written
  // as one fused attn_qkv, as llama.cpp's create_tensor_qkv accepts.
  bool gguf_fused_qkv = false;
  // phi3: longrope's original_max_position_embeddings (of 512); a sequence
  // longer than this switches to the long factors.
  int64_t longrope_original = 256;
  bool tie_word_embeddings = false;  // llama/mistral (qwen2: always tied)
  int64_t sliding_window = 8;        // mistral
  // llama/mistral/qwen2: HF rope_scaling (kNone: none), written to
  // config.json as {"rope_type": linear|dynamic|llama3, "factor", and for
  // llama3 low_freq_factor, high_freq_factor,
  // original_max_position_embeddings}. Not representable in the GGUF output
  // (WriteTestModelGguf rejects it).
  RopeScaling rope_scaling;
  // GGUF output only: 2-D weight matrices whose row length is a multiple of
  // 32 stored in this block format (kQ8_0, kQ4_0), as llama-quantize leaves
  // them; norms and other tensors stay f32. kNone: all f32.
  ir::QuantFormat gguf_weights = ir::QuantFormat::kNone;
};

// The architectures MakeTestModel knows.
const std::vector<std::string>& TestModelArchitectures();
// A seed for `arch` whose greedy continuation of TestPromptIds() has a top-1
// margin >= 1e-3 at each of 32 steps (checked by test_model_test).
uint64_t DefaultTestSeed(const std::string& arch);
// A fixed prompt for tests (ids of the test vocabulary, BOS first).
std::vector<int64_t> TestPromptIds();

struct TestModel {
  ModelConfig config;
  // Tensors in HF names and layout, in file order.
  std::vector<std::pair<std::string, ir::Tensor>> tensors;
  WeightMap Weights() const;
};
// Any architecture of TestModelArchitectures(); an unknown one is an error
// listing them.
absl::StatusOr<TestModel> MakeTestModel(const TestModelSpec& spec);

// Writes a Hugging Face folder `dir` (created if needed): config.json,
// generation_config.json, model.safetensors, tokenizer.json (TestHfVocab)
// and tokenizer_config.json. With `also_gguf`, `dir`/model.gguf holds the same
// weights (llama family; Q/K permuted as llama.cpp stores them for llama
// and mistral) with the test vocabulary. Files are written atomically.
absl::Status WriteTestModelHf(const TestModelSpec& spec, const std::string& dir,
                              bool also_gguf = false);

// The vocabulary's pieces (index = token id) and scores; shared by the
// writer and tests.
struct TestVocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int32_t>
      types;  // GGUF token types: 1 normal, 2 unk, 3 control, 6 byte
};
TestVocab MakeTestVocab();

// The test vocabulary as tokenizer.json source: for the llama family the
// SentencePiece vocabulary above (Llama-2 form); for gpt2 a byte-level BPE
// vocabulary of the same size (<|padding|>, <|startoftext|> = 1,
// <|endoftext|> = 2, 256 byte tokens, merges for the test words).
HfVocabSource TestHfVocab(ModelFamily family);

// Writes the model as GGUF (atomically; every architecture above; experts
// stacked as ffn_{gate,up,down}_exps, mixtral as llama.cpp's "llama").
// Q/K rows are stored in llama.cpp's interleaved layout for llama/mistral,
// as real GGUF files are; gpt2's Conv1D weights transposed to [out, in] and
// its byte-level BPE vocabulary, as convert_hf_to_gguf.py writes them.
absl::Status WriteTestModelGguf(const TestModelSpec& spec,
                                const std::string& path);

// The same weights in HF names and layout (for in-memory tests).
WeightMap MakeTestWeights(const TestModelSpec& spec, LlamaConfig* config);

}  // namespace qeff::models

#endif  // QEFF_MODELS_TEST_MODEL_H_
