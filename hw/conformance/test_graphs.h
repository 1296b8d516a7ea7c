// Graphs for driver tests: tiny random Llama models in their device form
// (eager builder -> shape inference -> TransformLM -> shape inference),
// with Linear weights in any weight format, plus the same model with the
// weights dequantized to f32 (what a quantized path is compared against).
#ifndef QEFF_HW_CONFORMANCE_TEST_GRAPHS_H_
#define QEFF_HW_CONFORMANCE_TEST_GRAPHS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/graph.h"

namespace qeff::hw::testing {

struct TinyLlamaOptions {
  int64_t hidden = 64;
  int64_t intermediate = 96;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t kv_heads = 2;
  int64_t vocab = 40;
  bool tie_embeddings = false;
  // Format of every Linear weight (and of the embedding when tied);
  // kNone: f32. K-quants get random well-formed blocks.
  ir::QuantFormat weights = ir::QuantFormat::kNone;
  uint32_t seed = 1;
};

struct TinyLlama {
  ir::Graph graph;        // weights in the requested format
  ir::Graph dequantized;  // the same weights dequantized to f32
};

absl::StatusOr<TinyLlama> MakeTinyLlama(const TinyLlamaOptions& o);

// The seeded test model of models/test_model.h for `arch` ("llama",
// "mistral", "qwen2", "gpt2"; DefaultTestSeed) in device form, as
// engine::TransformForDevice gives it: TransformLM, then CustomRMSNorm.
absl::StatusOr<ir::Graph> MakeTestModelGraph(const std::string& arch);

// A deterministic prompt of `n` token ids in [1, vocab).
std::vector<int64_t> TestPrompt(int64_t n, int64_t vocab, uint32_t seed);

}  // namespace qeff::hw::testing

#endif  // QEFF_HW_CONFORMANCE_TEST_GRAPHS_H_
