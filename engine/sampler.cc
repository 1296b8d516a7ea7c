#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"

namespace qeff::engine {

absl::Status ValidateSamplingParams(const SamplingParams& p) {
  auto bad = [](absl::string_view what, double v) {
    return absl::InvalidArgumentError(absl::StrCat(what, ", got ", v));
  };
  if (!(p.repetition_penalty > 0))
    return bad("repetition_penalty must be > 0", p.repetition_penalty);
  if (!(p.temperature >= 0))
    return bad("temperature must be >= 0", p.temperature);
  if (p.top_k < 0) return bad("top_k must be >= 0", p.top_k);
  if (!(p.top_p > 0 && p.top_p <= 1))
    return bad("top_p must be in (0, 1]", p.top_p);
  if (!(p.min_p >= 0 && p.min_p < 1))
    return bad("min_p must be in [0, 1)", p.min_p);
  if (p.max_top_k_ids < 1)
    return bad("max_top_k_ids must be >= 1", p.max_top_k_ids);
  return absl::OkStatus();
}

std::vector<double> Sampler::Distribution(
    const float* logits, int64_t vocab, const std::vector<int64_t>& prompt,
    const std::vector<int64_t>& generated) const {
  std::vector<double> l(logits, logits + vocab);
  // Repetition penalty over every id seen (each id once).
  if (p_.repetition_penalty != 1.0f) {
    std::set<int64_t> seen(prompt.begin(), prompt.end());
    seen.insert(generated.begin(), generated.end());
    for (int64_t id : seen) {
      if (id < 0 || id >= vocab) continue;
      l[id] = l[id] > 0 ? l[id] / p_.repetition_penalty
                        : l[id] * p_.repetition_penalty;
    }
  }
  // Presence penalty: once per distinct generated id.
  if (p_.presence_penalty != 0.0f) {
    std::set<int64_t> seen(generated.begin(), generated.end());
    for (int64_t id : seen)
      if (id >= 0 && id < vocab) l[id] -= p_.presence_penalty;
  }
  std::vector<double> probs(vocab, 0.0);
  if (p_.temperature == 0.0f) {  // greedy
    probs[std::max_element(l.begin(), l.end()) - l.begin()] = 1.0;
    return probs;
  }
  for (double& x : l) x /= p_.temperature;
  // Candidates by logit, descending (lowest id first on ties).
  std::vector<int64_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return l[a] > l[b]; });
  int64_t k = p_.top_k > 0 ? p_.top_k : vocab;
  k = std::min({k, p_.max_top_k_ids, vocab});
  order.resize(k);
  const double mx = l[order[0]];
  std::vector<double> p(k);
  double sum = 0;
  for (int64_t i = 0; i < k; ++i) sum += p[i] = std::exp(l[order[i]] - mx);
  for (double& x : p) x /= sum;
  // Top-p: the smallest prefix whose mass reaches top_p (at least one).
  int64_t keep = k;
  if (p_.top_p < 1.0f) {
    double cum = 0;
    for (int64_t i = 0; i < k; ++i) {
      cum += p[i];
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  // Min-p: drop what is below min_p × the most likely.
  for (int64_t i = 0; i < keep; ++i) {
    if (p[i] < p_.min_p * p[0]) continue;
    probs[order[i]] = p[i];
  }
  double total = 0;
  for (double x : probs) total += x;
  for (double& x : probs) x /= total;
  return probs;
}

int64_t Sampler::Sample(const float* logits, int64_t vocab,
                        const std::vector<int64_t>& prompt,
                        const std::vector<int64_t>& generated) {
  const std::vector<double> probs =
      Distribution(logits, vocab, prompt, generated);
  if (p_.temperature == 0.0f)
    return std::max_element(probs.begin(), probs.end()) - probs.begin();
  // A uniform draw in [0, 1) from 53 random bits (portable).
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  double cum = 0;
  int64_t last = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    if (probs[i] <= 0) continue;
    last = i;
    cum += probs[i];
    if (u < cum) return i;
  }
  return last;
}

}  // namespace qeff::engine
