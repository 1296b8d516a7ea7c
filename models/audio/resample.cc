#include "models/audio/resample.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace qeff::models {

absl::StatusOr<std::vector<float>> Resample(const std::vector<float>& x,
                                            int64_t from_rate,
                                            int64_t to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "resample: rates must be positive, got ", from_rate, " -> ", to_rate));
  if (from_rate == to_rate) return x;
  const int64_t g = std::gcd(from_rate, to_rate);
  const int64_t L = from_rate / g, M = to_rate / g;
  constexpr double kWidth = 6.0, kRolloff = 0.99;
  const double base = static_cast<double>(std::min(L, M)) * kRolloff;
  const int64_t width =
      static_cast<int64_t>(std::ceil(kWidth * static_cast<double>(L) / base));
  const int64_t taps = 2 * width + L;
  if (M * taps > (int64_t{1} << 24))
    return absl::InvalidArgumentError(absl::StrCat(
        "resample: ", from_rate, " -> ", to_rate, " Hz reduces to ", L, " -> ",
        M, ", a kernel of ", M, " x ", taps, " taps (too large)"));
  // kernel[i][k]: output phase i, tap k (torchaudio's
  // _get_sinc_resample_kernel).
  std::vector<double> kernel(M * taps);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t k = 0; k < taps; ++k) {
      double t =
          (-static_cast<double>(i) / M + static_cast<double>(k - width) / L) *
          base;
      t = std::clamp(t, -kWidth, kWidth);
      const double w = std::pow(std::cos(t * M_PI / kWidth / 2), 2);
      t *= M_PI;
      const double s = t == 0 ? 1.0 : std::sin(t) / t;
      kernel[i * taps + k] = s * w * base / static_cast<double>(L);
    }
  }
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t out_len = (M * n + L - 1) / L;
  std::vector<float> y(out_len);
  for (int64_t o = 0; o < out_len; ++o) {
    const int64_t j = o / M, i = o % M;
    // Window start in the padded input is j * L; padded index p is input
    // p - width.
    const double* kr = &kernel[i * taps];
    double acc = 0;
    const int64_t start = j * L - width;
    const int64_t k0 = std::max<int64_t>(0, -start);
    const int64_t k1 = std::min<int64_t>(taps, n - start);
    for (int64_t k = k0; k < k1; ++k) acc += kr[k] * x[start + k];
    y[o] = static_cast<float>(acc);
  }
  return y;
}

}  // namespace qeff::models
