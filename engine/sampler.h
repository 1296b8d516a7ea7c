// Sampling with QEfficient's on-device sampler parameters, in its order:
// repetition penalty (over the prompt and the generated tokens), presence
// penalty (over the generated tokens), temperature (0 = greedy: argmax,
// lowest id on ties), top-k (capped by max_top_k_ids), top-p, min-p, then a
// draw from a per-request seeded generator. Reproducible: the same seed and
// logits give the same tokens on every machine (std::mt19937_64 and an
// explicit uniform draw, no platform distributions).
#ifndef QEFF_ENGINE_SAMPLER_H_
#define QEFF_ENGINE_SAMPLER_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/status.h"

namespace qeff::engine {

struct SamplingParams {
  float repetition_penalty = 1.0f;  // > 0; 1: off
  float presence_penalty = 0.0f;    // subtracted once per generated token id
  float temperature = 0.0f;         // 0: greedy
  int64_t top_k = 0;                // 0: no limit (then max_top_k_ids)
  float top_p = 1.0f;               // (0, 1]
  float min_p = 0.0f;               // [0, 1)
  uint64_t seed = 0;
  int64_t max_top_k_ids = 512;  // QEfficient's cap on top-k
};

// Names the first bad field ("temperature must be >= 0, got -1").
absl::Status ValidateSamplingParams(const SamplingParams& p);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params)
      : p_(params), rng_(params.seed) {}

  // The next token for `logits` [vocab]; `prompt` and `generated` are the
  // ids so far (for the penalties).
  int64_t Sample(const float* logits, int64_t vocab,
                 const std::vector<int64_t>& prompt,
                 const std::vector<int64_t>& generated);

  // The distribution Sample draws from (after every filter), for tests.
  std::vector<double> Distribution(const float* logits, int64_t vocab,
                                   const std::vector<int64_t>& prompt,
                                   const std::vector<int64_t>& generated) const;

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
};

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_SAMPLER_H_
