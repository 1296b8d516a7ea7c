// Band-limited resampling as torchaudio.functional.resample computes it
// with its defaults (the "sinc_interp_hann" method, lowpass_filter_width 6,
// rolloff 0.99): the rates are reduced by their gcd to L -> M, a windowed
// sinc kernel of 2 * width + L taps per output phase (width =
// ceil(6 * L / (0.99 * min(L, M)))) runs with stride L over the input padded
// with `width` zeros before and `width + L` after, and the output is cut to
// ceil(M * n / L) samples. Computed in double. Equal rates return the input.
// QEfficient's CTC example resamples with torchaudio's Resample this way.
#ifndef QEFF_MODELS_AUDIO_RESAMPLE_H_
#define QEFF_MODELS_AUDIO_RESAMPLE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace qeff::models {

// InvalidArgument for a non-positive rate or a rate pair whose reduced
// ratio needs more than 2^24 kernel taps (e.g. 44100 -> 44101).
absl::StatusOr<std::vector<float>> Resample(const std::vector<float>& x,
                                            int64_t from_rate, int64_t to_rate);

}  // namespace qeff::models

#endif  // QEFF_MODELS_AUDIO_RESAMPLE_H_
