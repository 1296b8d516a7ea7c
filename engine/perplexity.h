// Perplexity of a text on a compiled program, scored exactly as llama.cpp's
// llama-perplexity scores it: the whole text tokenized as a prompt (BOS
// first only when the tokenizer adds one), cut into non-overlapping chunks
// of ctx_len tokens (a trailing partial chunk is dropped; at least 2 ×
// ctx_len tokens are needed), each chunk's first token replaced by BOS when
// the tokenizer adds one, and only the second half of each chunk scored:
// logits at positions first = ctx_len/2 … ctx_len−2 predict the next token.
// perplexity = exp(mean negative log-likelihood over the scored tokens);
// the running value after each chunk is what llama-perplexity prints.
//
// The logits come from the device's program (a model loaded with
// all_logits, compiled with prefill_seq_len = ctx_len = the chunk), never
// from evaluating the eager graph. Chunks run batch_size at a time as one
// batched prefill.
#ifndef QEFF_ENGINE_PERPLEXITY_H_
#define QEFF_ENGINE_PERPLEXITY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/qeff_auto_model.h"

namespace qeff::engine {

struct PerplexityOptions {
  int64_t ctx_len = 512;
  int64_t batch_size = 1;  // chunks per prefill call
  std::string device = "cpu";
  int num_cores = 0;
  // The precision of the scoring program.
  ir::QuantFormat weight_format = ir::QuantFormat::kNone;
  bool mxint8_kv_cache = false;
  // Called after each chunk with (chunk index, running perplexity).
  std::function<void(int64_t, double)> on_chunk;
};

struct PerplexityResult {
  int64_t tokens = 0;          // the text's tokens
  int64_t scored = 0;          // tokens whose likelihood was counted
  double perplexity = 0;       // the final estimate
  std::vector<double> chunks;  // running estimate after each chunk
};

// Logits [tokens.size(), vocab] of one chunk under teacher forcing (batch
// 1, positions 0..n-1) on `model` (loaded with all_logits) compiled for
// prefill_seq_len = ctx_len = tokens.size() with `params`' precision.
absl::StatusOr<std::vector<float>> ChunkLogits(
    QEFFAutoModelForCausalLM& model, const std::vector<int32_t>& tokens,
    const CompileParams& params);

// `model` must be loaded with all_logits (FromPretrainedOptions); it is
// compiled here for the chunk shape (reused when it exists).
absl::StatusOr<PerplexityResult> Perplexity(QEFFAutoModelForCausalLM& model,
                                            const std::string& text,
                                            const PerplexityOptions& options);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_PERPLEXITY_H_
