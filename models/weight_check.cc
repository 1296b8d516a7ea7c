#include "models/weight_check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace qeff::models {
namespace {

// Index of the first non-finite element, or -1; `*nan` says which kind.
int64_t FirstNonFinite(const ir::Tensor& t, bool* nan) {
  const int64_t n = t.num_elements();
  const uint8_t* p = t.raw();
  auto half_bits = [&](int exp_bits, int mant_bits) -> int64_t {
    const uint16_t exp_mask = ((1u << exp_bits) - 1) << mant_bits;
    const uint16_t mant_mask = (1u << mant_bits) - 1;
    for (int64_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      if ((v & exp_mask) == exp_mask) {
        *nan = (v & mant_mask) != 0;
        return i;
      }
    }
    return -1;
  };
  switch (t.dtype()) {
    case ir::DType::kF32:
      for (int64_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, p + 4 * i, 4);
        if (!std::isfinite(v)) {
          *nan = std::isnan(v);
          return i;
        }
      }
      return -1;
    case ir::DType::kF64:
      for (int64_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        if (!std::isfinite(v)) {
          *nan = std::isnan(v);
          return i;
        }
      }
      return -1;
    case ir::DType::kF16:
      return half_bits(5, 10);
    case ir::DType::kBF16:
      return half_bits(8, 7);
    default:
      return -1;
  }
}

}  // namespace

absl::Status CheckWeightsFinite(const std::string& source,
                                const WeightMap& weights) {
  std::vector<const std::string*> names;
  for (const auto& [name, t] : weights) names.push_back(&name);
  std::sort(names.begin(), names.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* name : names) {
    const ir::Tensor& t = weights.at(*name);
    // Block-quantized weights hold scales and codes, not floats: not checked.
    if (!t.has_storage() || t.is_quantized()) continue;
    bool nan = false;
    const int64_t i = FirstNonFinite(t, &nan);
    // The pass read every page of a mapped weight: drop them again, so that
    // a load (or a run that reuses a compiled program and never reads the
    // weights) does not hold the checkpoint resident. The bytes stay
    // readable, faulted back from the page cache.
    t.buffer()->ReleasePages();
    if (i >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": tensor ", *name, " element ", i, " is ",
                       nan ? "nan" : "inf", " (weights must be finite)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace qeff::models
