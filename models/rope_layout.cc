#include "models/rope_layout.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ir/buffer.h"

namespace qeff::models {
namespace {

// permute: out row h*hd + 2*i + j  <-  in row h*hd + j*hd/2 + i.
// unpermute is its inverse.
absl::StatusOr<ir::Tensor> Permute(const ir::Tensor& w, int n_head,
                                   bool inverse) {
  const char* what = inverse ? "UnpermuteQK" : "PermuteQK";
  if (w.rank() < 1 || n_head <= 0 || !w.has_storage()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": bad tensor ", w.TypeString(), " or n_head ", n_head));
  }
  const int64_t rows = w.dims()[0];
  if (rows % n_head != 0 || (rows / n_head) % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": first dim ", rows, " of ", w.TypeString(),
                     " is not n_head (", n_head, ") x an even head_dim"));
  }
  if (w.is_quantized() && w.rank() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": a quantized tensor needs rank >= 2, got ", w.TypeString()));
  }
  // Rows are moved whole, as bytes: the dtype (f32/f16/bf16/...) and any
  // block quantization (blocks run along the last dim, inside a row) are
  // kept exactly.
  const int64_t hd = rows / n_head;
  const int64_t half = hd / 2;
  const size_t row_bytes = rows == 0 ? 0 : w.byte_size() / rows;
  // File-backed: once a compiler has packed these rows into its own
  // layout it releases their pages (as it does the checkpoint's), so the
  // process does not hold both copies.
  auto buffer = ir::Buffer::AllocateFileBacked(w.byte_size());
  const uint8_t* src = w.raw();
  uint8_t* dst = buffer->mutable_data();
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        int64_t interleaved = h * hd + 2 * i + j;
        int64_t halved = h * hd + j * half + i;
        int64_t to = inverse ? halved : interleaved;
        int64_t from = inverse ? interleaved : halved;
        if (row_bytes)
          std::memcpy(dst + to * row_bytes, src + from * row_bytes, row_bytes);
      }
    }
  }
  // The source's mapped pages were only read to be moved: drop them so the
  // process holds one copy of these weights, not two (RSS).
  w.buffer()->ReleasePages();
  if (w.is_quantized())
    return ir::Tensor::FromQuantized(w.quant(), w.dtype(), w.dims(),
                                     std::move(buffer));
  return ir::Tensor::FromBuffer(w.dtype(), w.dims(), std::move(buffer));
}

}  // namespace

absl::StatusOr<ir::Tensor> UnpermuteQK(const ir::Tensor& w, int n_head) {
  return Permute(w, n_head, /*inverse=*/true);
}

absl::StatusOr<ir::Tensor> PermuteQK(const ir::Tensor& w, int n_head) {
  return Permute(w, n_head, /*inverse=*/false);
}

}  // namespace qeff::models
