// The reference evaluator's Conv (ONNX opset 11+ semantics, any number of
// spatial axes): groups, strides, dilations, explicit pads and auto_pad
// (NOTSET, VALID, SAME_UPPER, SAME_LOWER). Accumulates in double and rounds
// once to the output dtype. Exact and slow: the oracle for the cpu driver's
// conv kernel.
#include <cstdint>
#include <vector>

#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

absl::Status ConvKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  const Tensor* b = ctx.input(2);
  if (!IsFloat(x.dtype())) return Error(ctx, "X must be a float tensor");
  const int rank = x.rank();
  if (rank < 3 || w.rank() != rank)
    return Error(ctx, "X ", DimsString(x.dims()), " and W ",
                 DimsString(w.dims()), " must have the same rank >= 3");
  const int k = rank - 2;
  const Node& n = ctx.node;
  const int64_t group = n.GetInt("group", 1);
  const int64_t N = x.dims()[0], C = x.dims()[1], M = w.dims()[0],
                CG = w.dims()[1];
  if (group < 1 || CG * group != C || M % group != 0)
    return Error(ctx, "channels: X has ", C, ", W ", DimsString(w.dims()),
                 ", group ", group);
  if (b && (b->rank() != 1 || b->dims()[0] != M))
    return Error(ctx, "B must be [", M, "], got ", DimsString(b->dims()));
  auto list = [&](const char* name, int64_t def, size_t len) {
    std::vector<int64_t> v = n.GetInts(name);
    if (v.empty()) v.assign(len, def);
    return v;
  };
  std::vector<int64_t> strides = list("strides", 1, k),
                       dil = list("dilations", 1, k),
                       pads = list("pads", 0, 2 * k);
  if (strides.size() != size_t(k) || dil.size() != size_t(k) ||
      pads.size() != size_t(2 * k))
    return Error(ctx, "strides/dilations/pads lengths do not match rank");
  const std::string auto_pad = n.GetString("auto_pad", "NOTSET");
  Dims od = {N, M};
  std::vector<int64_t> begin(k);
  for (int i = 0; i < k; ++i) {
    const int64_t d = x.dims()[2 + i], kk = w.dims()[2 + i];
    if (strides[i] < 1 || dil[i] < 1) return Error(ctx, "bad stride/dilation");
    const int64_t span = dil[i] * (kk - 1) + 1;
    int64_t o;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      o = (d + strides[i] - 1) / strides[i];
      const int64_t total =
          std::max<int64_t>(0, (o - 1) * strides[i] + span - d);
      begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (auto_pad == "VALID") {
      begin[i] = 0;
      o = d >= span ? (d - span) / strides[i] + 1 : 0;
    } else if (auto_pad == "NOTSET") {
      begin[i] = pads[i];
      const int64_t padded = d + pads[i] + pads[k + i];
      o = padded >= span ? (padded - span) / strides[i] + 1 : 0;
    } else {
      return Error(ctx, "auto_pad '", auto_pad, "' is not supported");
    }
    if (o <= 0)
      return Error(ctx, "input shorter than the kernel on axis ", 2 + i);
    od.push_back(o);
  }
  const std::vector<double> xv = AsDoubles(x), wv = AsDoubles(w);
  const std::vector<double> bv = b ? AsDoubles(*b) : std::vector<double>{};
  const Dims xs = Strides(x.dims()), ws = Strides(w.dims()), os = Strides(od);
  int64_t spatial = 1, kernel = 1;
  for (int i = 0; i < k; ++i) {
    spatial *= od[2 + i];
    kernel *= w.dims()[2 + i];
  }
  const int64_t mg = M / group;
  std::vector<double> y(static_cast<size_t>(N * M * spatial));
  std::vector<int64_t> opos(k), kpos(k);
  for (int64_t nn = 0; nn < N; ++nn) {
    for (int64_t m = 0; m < M; ++m) {
      const int64_t g = m / mg;
      for (int64_t s = 0; s < spatial; ++s) {
        int64_t rem = s;
        for (int i = k - 1; i >= 0; --i) {
          opos[i] = rem % od[2 + i];
          rem /= od[2 + i];
        }
        double acc = b ? bv[m] : 0.0;
        for (int64_t c = 0; c < CG; ++c) {
          const int64_t xc = g * CG + c;
          for (int64_t kk = 0; kk < kernel; ++kk) {
            int64_t r2 = kk;
            for (int i = k - 1; i >= 0; --i) {
              kpos[i] = r2 % w.dims()[2 + i];
              r2 /= w.dims()[2 + i];
            }
            int64_t xi = nn * xs[0] + xc * xs[1];
            bool inside = true;
            for (int i = 0; i < k && inside; ++i) {
              const int64_t p =
                  opos[i] * strides[i] - begin[i] + kpos[i] * dil[i];
              if (p < 0 || p >= x.dims()[2 + i]) inside = false;
              xi += p * xs[2 + i];
            }
            if (!inside) continue;
            int64_t wi = m * ws[0] + c * ws[1];
            for (int i = 0; i < k; ++i) wi += kpos[i] * ws[2 + i];
            acc += xv[xi] * wv[wi];
          }
        }
        y[nn * os[0] + m * os[1] + s] = acc;
      }
    }
  }
  out->push_back(FromDoubles(x.dtype(), od, y));
  return absl::OkStatus();
}

}  // namespace

void RegisterConvKernels() { RegisterKernel("", "Conv", ConvKernel); }

}  // namespace qeff::ir::kernels
