#include "passes/fp16_clip.h"

#include <cmath>

namespace qeff::passes {

absl::StatusOr<bool> FP16Clip::Run(ir::Graph& g) {
  constexpr float kMax = 65504.0f;
  bool changed = false;
  for (ir::ValueId v : g.Constants()) {
    ir::Value& val = g.value(v);
    const ir::Tensor& t = *val.constant;
    if (t.dtype() != ir::DType::kF32 || t.is_quantized()) continue;
    const float* p = t.data<float>();
    int64_t n = t.num_elements();
    bool out_of_range = false;
    for (int64_t i = 0; i < n && !out_of_range; ++i)
      out_of_range = std::isfinite(p[i]) && std::fabs(p[i]) > kMax;
    if (!out_of_range) continue;
    ir::Tensor c = ir::Tensor::Zeros(ir::DType::kF32, t.dims());
    float* q = c.mutable_data<float>();
    for (int64_t i = 0; i < n; ++i)
      q[i] =
          std::isfinite(p[i]) ? std::fmax(-kMax, std::fmin(kMax, p[i])) : p[i];
    val.constant = std::move(c);
    changed = true;
  }
  return changed;
}

}  // namespace qeff::passes
