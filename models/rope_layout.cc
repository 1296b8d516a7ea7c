#include "models/rope_layout.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/status_macros.h"

namespace qeff::models {
namespace {

// permute: out row h*hd + 2*i + j  <-  in row h*hd + j*hd/2 + i.
// unpermute is its inverse.
absl::StatusOr<ir::Tensor> Permute(const ir::Tensor& w, int n_head,
                                   bool inverse) {
  const char* what = inverse ? "UnpermuteQK" : "PermuteQK";
  if (w.is_quantized()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": quantized tensor ", w.TypeString(), " is not supported"));
  }
  if (w.dtype() != ir::DType::kF32 && w.dtype() != ir::DType::kF16 &&
      w.dtype() != ir::DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expects f32/f16/bf16, got ", w.TypeString()));
  }
  if (w.rank() < 1 || n_head <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": bad tensor ", w.TypeString(), " or n_head ", n_head));
  }
  const int64_t rows = w.dims()[0];
  if (rows % n_head != 0 || (rows / n_head) % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": first dim ", rows, " of ", w.TypeString(),
                     " is not n_head (", n_head, ") x an even head_dim"));
  }
  const int64_t hd = rows / n_head;
  const int64_t half = hd / 2;
  const int64_t row_len = rows == 0 ? 0 : w.num_elements() / rows;
  std::vector<float> src = w.ToFloats();
  ir::Tensor out = ir::Tensor::Zeros(ir::DType::kF32, w.dims());
  float* dst = out.mutable_data<float>();
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        int64_t interleaved = h * hd + 2 * i + j;
        int64_t halved = h * hd + j * half + i;
        int64_t to = inverse ? halved : interleaved;
        int64_t from = inverse ? interleaved : halved;
        std::memcpy(dst + to * row_len, src.data() + from * row_len,
                    row_len * sizeof(float));
      }
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<ir::Tensor> UnpermuteQK(const ir::Tensor& w, int n_head) {
  return Permute(w, n_head, /*inverse=*/true);
}

absl::StatusOr<ir::Tensor> PermuteQK(const ir::Tensor& w, int n_head) {
  return Permute(w, n_head, /*inverse=*/false);
}

}  // namespace qeff::models
