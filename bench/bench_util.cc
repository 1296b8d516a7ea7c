#include "bench/bench_util.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/tensor.h"

namespace qeff::bench {
namespace {

// splitmix64: a fast, seeded stream of 64-bit values.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float Symmetric() {
    return static_cast<float>(Next() >> 40) * (2.0f / (1 << 24)) - 1.0f;
  }

 private:
  uint64_t s_;
};

ir::Tensor Random(Rng& rng, ir::DType dtype, std::vector<int64_t> dims,
                  float scale, float offset = 0.0f) {
  ir::Tensor t = ir::Tensor::Zeros(dtype, std::move(dims));
  const int64_t n = t.num_elements();
  if (dtype == ir::DType::kF16) {
    uint16_t* p = t.mutable_data<uint16_t>();
    for (int64_t i = 0; i < n; ++i)
      p[i] = ir::FloatToHalf(offset + scale * rng.Symmetric());
  } else {
    float* p = t.mutable_data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = offset + scale * rng.Symmetric();
  }
  return t;
}

}  // namespace

ProcMemory ReadProcMemory() {
  ProcMemory m;
  std::ifstream f("/proc/self/status");
  std::string line;
  auto field = [&](const char* key, long* out) {
    const size_t k = std::char_traits<char>::length(key);
    if (line.compare(0, k, key) == 0) *out = std::stol(line.substr(k));
  };
  while (std::getline(f, line)) {
    field("VmRSS:", &m.vm_rss);
    field("RssAnon:", &m.rss_anon);
    field("RssFile:", &m.rss_file);
    field("VmHWM:", &m.vm_hwm);
  }
  return m;
}

absl::Status ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.close();
  if (!f) return absl::InternalError("/proc/self/clear_refs: cannot write 5");
  return absl::OkStatus();
}

std::string PeersDir() {
  const char* p = std::getenv("QEFF_PEERS_DIR");
  if (p != nullptr && *p) return p;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/root") + "/.cache/qeff/peers";
}

double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t LlamaParameterCount(const models::LlamaConfig& c) {
  const int64_t h = c.hidden_size, d = c.HeadDim(), f = c.intermediate_size;
  const int64_t layer = 2 * h + 2 * c.num_attention_heads * d * h +
                        2 * c.num_key_value_heads * d * h + 3 * f * h;
  return c.vocab_size * h * (c.tie_word_embeddings ? 1 : 2) +
         c.num_hidden_layers * layer + h;
}

absl::StatusOr<models::WeightMap> RandomLlamaWeights(
    const models::LlamaConfig& c, ir::DType dtype, uint64_t seed) {
  if (dtype != ir::DType::kF32 && dtype != ir::DType::kF16) {
    return absl::InvalidArgumentError(absl::StrCat("RandomLlamaWeights: dtype ",
                                                   ir::DTypeName(dtype),
                                                   " (want f32 or f16)"));
  }
  if (absl::Status s = c.Validate(); !s.ok()) return s;
  Rng rng(seed);
  const int64_t h = c.hidden_size, d = c.HeadDim(), f = c.intermediate_size;
  // Uniform [-a, a] has std a / sqrt(3): a = sqrt(3 / fan_in) gives 1/fan_in
  // variance.
  const float in_scale = std::sqrt(3.0f / h);
  const float f_scale = std::sqrt(3.0f / f);
  models::WeightMap w;
  w["model.embed_tokens.weight"] = Random(rng, dtype, {c.vocab_size, h}, 0.1f);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    w[p + "input_layernorm.weight"] = Random(rng, dtype, {h}, 0.1f, 1.0f);
    w[p + "self_attn.q_proj.weight"] =
        Random(rng, dtype, {c.num_attention_heads * d, h}, in_scale);
    w[p + "self_attn.k_proj.weight"] =
        Random(rng, dtype, {c.num_key_value_heads * d, h}, in_scale);
    w[p + "self_attn.v_proj.weight"] =
        Random(rng, dtype, {c.num_key_value_heads * d, h}, in_scale);
    w[p + "self_attn.o_proj.weight"] =
        Random(rng, dtype, {h, c.num_attention_heads * d}, in_scale);
    w[p + "post_attention_layernorm.weight"] =
        Random(rng, dtype, {h}, 0.1f, 1.0f);
    w[p + "mlp.gate_proj.weight"] = Random(rng, dtype, {f, h}, in_scale);
    w[p + "mlp.up_proj.weight"] = Random(rng, dtype, {f, h}, in_scale);
    w[p + "mlp.down_proj.weight"] = Random(rng, dtype, {h, f}, f_scale);
  }
  w["model.norm.weight"] = Random(rng, dtype, {h}, 0.1f, 1.0f);
  if (!c.tie_word_embeddings)
    w["lm_head.weight"] = Random(rng, dtype, {c.vocab_size, h}, in_scale);
  return w;
}

}  // namespace qeff::bench
