// Further ONNX ops the backend test suite exercises: parameterised
// activations, IsInf, PRelu, Dropout (inference), Tile, Pad, OneHot,
// EyeLike, Hardmax, BitShift, NonZero, DepthToSpace/SpaceToDepth,
// BatchNormalization (inference), InstanceNormalization, Global pools,
// MeanVarianceNormalization.
#include <cmath>
#include <cstring>
#include <functional>

#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

// A float-only unary op whose function depends on the node's attributes.
void RegActivation(
    const char* name,
    std::function<std::function<double(double)>(const Node&)> make,
    bool ints_too = false) {
  RegisterKernel("", name,
                 [make, ints_too](const KernelContext& ctx,
                                  std::vector<Tensor>* out) -> absl::Status {
                   QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
                   if (!IsFloat(x->dtype()) && !ints_too) {
                     return Error(ctx, "unsupported input type ",
                                  x->TypeString());
                   }
                   auto f = make(ctx.node);
                   std::vector<double> v = AsDoubles(*x);
                   for (double& e : v) e = f(e);
                   out->push_back(FromDoubles(x->dtype(), x->dims(), v));
                   return absl::OkStatus();
                 });
}

absl::Status PReluKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor &x = *ctx.input(0), &s = *ctx.input(1);
  QEFF_ASSIGN_OR_RETURN(Dims od, BroadcastShapes(ctx, {x.dims(), s.dims()}));
  auto ix = BroadcastIndex(x.dims(), od), is = BroadcastIndex(s.dims(), od);
  std::vector<double> vx = AsDoubles(x), vs = AsDoubles(s), r(ix.size());
  for (size_t i = 0; i < r.size(); ++i)
    r[i] = vx[ix[i]] < 0 ? vs[is[i]] * vx[ix[i]] : vx[ix[i]];
  out->push_back(FromDoubles(x.dtype(), od, r));
  return absl::OkStatus();
}

absl::Status DropoutKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  const Tensor* training = ctx.input(2);
  if (training && training->num_elements() == 1 && training->GetInt(0) != 0) {
    const Tensor* ratio = ctx.input(1);
    if (!ratio || ratio->GetDouble(0) != 0) {
      return absl::UnimplementedError(
          Error(ctx, "training-mode dropout is random; not supported")
              .message());
    }
  }
  out->push_back(*x);
  Tensor mask = Tensor::Zeros(DType::kBool, x->dims());
  if (mask.num_elements())
    std::memset(mask.mutable_raw(), 1, mask.num_elements());
  out->push_back(std::move(mask));
  return absl::OkStatus();
}

absl::Status TileKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> rep, IntList(ctx, 1));
  if (static_cast<int>(rep.size()) != x.rank())
    return Error(ctx, "repeats length differs from rank");
  Dims od(x.rank());
  for (int i = 0; i < x.rank(); ++i) {
    if (rep[i] < 0) return Error(ctx, "negative repeat");
    od[i] = x.dims()[i] * rep[i];
  }
  Tensor y = Tensor::Zeros(x.dtype(), od);
  size_t es = DTypeSize(x.dtype());
  Dims xs = Strides(x.dims()), pos(x.rank(), 0);
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    int64_t src = 0;
    for (int k = 0; k < x.rank(); ++k) src += (pos[k] % x.dims()[k]) * xs[k];
    std::memcpy(y.mutable_raw() + i * es, x.raw() + src * es, es);
    for (int k = x.rank() - 1; k >= 0; --k) {
      if (++pos[k] < od[k]) break;
      pos[k] = 0;
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status PadKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& x = *ctx.input(0);
  const int r = x.rank();
  QEFF_ASSIGN_OR_RETURN(std::vector<int64_t> pads, IntList(ctx, 1));
  std::vector<int64_t> axes;
  if (ctx.input(3)) {
    QEFF_ASSIGN_OR_RETURN(axes, IntList(ctx, 3));
  } else {
    for (int i = 0; i < r; ++i) axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size()) return Error(ctx, "pads length mismatch");
  Dims before(r, 0), after(r, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    QEFF_ASSIGN_OR_RETURN(int64_t a, NormAxis(ctx, axes[i], r));
    before[a] = pads[i];
    after[a] = pads[i + axes.size()];
  }
  const std::string mode = ctx.node.GetString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return Error(ctx, "unknown mode '", mode, "'");
  Dims od(r);
  for (int i = 0; i < r; ++i) {
    od[i] = x.dims()[i] + before[i] + after[i];
    if (od[i] < 0) return Error(ctx, "negative output dim");
    if (mode != "constant" && x.dims()[i] == 0 && od[i] > 0)
      return Error(ctx, "cannot ", mode, "-pad an empty axis");
  }
  Tensor y = Tensor::Zeros(x.dtype(), od);
  size_t es = DTypeSize(x.dtype());
  Tensor cv = Tensor::Zeros(x.dtype(), {});
  if (ctx.input(2) && ctx.input(2)->num_elements() == 1)
    std::memcpy(cv.mutable_raw(), ctx.input(2)->raw(), es);
  Dims xs = Strides(x.dims()), pos(r, 0);
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    int64_t src = 0;
    bool inside = true;
    for (int k = 0; k < r && inside; ++k) {
      int64_t p = pos[k] - before[k], d = x.dims()[k];
      if (p < 0 || p >= d) {
        if (mode == "constant") {
          inside = false;
        } else if (mode == "edge") {
          p = p < 0 ? 0 : d - 1;
        } else {  // reflect
          if (d == 1) {
            p = 0;
          } else {
            int64_t period = 2 * (d - 1);
            p = ((p % period) + period) % period;
            if (p >= d) p = period - p;
          }
        }
      }
      src += p * xs[k];
    }
    std::memcpy(y.mutable_raw() + i * es,
                inside ? x.raw() + src * es : cv.raw(), es);
    for (int k = r - 1; k >= 0; --k) {
      if (++pos[k] < od[k]) break;
      pos[k] = 0;
    }
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status OneHotKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor &ind = *ctx.input(0), &dep = *ctx.input(1), &val = *ctx.input(2);
  if (dep.num_elements() != 1 || val.num_elements() != 2)
    return Error(ctx, "depth must be a scalar and values have 2 elements");
  const int64_t depth = static_cast<int64_t>(dep.GetDouble(0));
  const int64_t r = ind.rank() + 1;
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", -1), r));
  Dims od = ind.dims();
  od.insert(od.begin() + axis, depth);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= od[i];
  for (int i = axis + 1; i < r; ++i) inner *= od[i];
  std::vector<double> iv = AsDoubles(ind);
  Tensor y = Tensor::Zeros(val.dtype(), od);
  size_t es = DTypeSize(val.dtype());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t d = 0; d < depth; ++d)
      for (int64_t in = 0; in < inner; ++in) {
        int64_t k = static_cast<int64_t>(iv[o * inner + in]);
        if (k < 0) k += depth;
        std::memcpy(y.mutable_raw() + ((o * depth + d) * inner + in) * es,
                    val.raw() + (k == d ? es : 0), es);
      }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status EyeLikeKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  if (x->rank() != 2) return Error(ctx, "input must be 2-D");
  DType t = x->dtype();
  if (const Attribute* a = ctx.node.attr("dtype")) {
    auto d = DTypeFromOnnx(static_cast<int>(a->i()));
    if (!d.ok()) return Error(ctx, d.status().message());
    t = *d;
  }
  const int64_t k = ctx.node.GetInt("k", 0);
  Tensor y = Tensor::Zeros(t, x->dims());
  for (int64_t i = 0; i < x->dims()[0]; ++i) {
    int64_t j = i + k;
    if (j >= 0 && j < x->dims()[1]) StoreInt(y, i * x->dims()[1] + j, 1);
  }
  out->push_back(std::move(y));
  return absl::OkStatus();
}

absl::Status HardmaxKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  QEFF_ASSIGN_OR_RETURN(int64_t axis,
                        NormAxis(ctx, ctx.node.GetInt("axis", -1), x->rank()));
  int64_t outer = 1, len = x->dims()[axis], inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x->dims()[i];
  for (int i = axis + 1; i < x->rank(); ++i) inner *= x->dims()[i];
  std::vector<double> v = AsDoubles(*x), r(v.size(), 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t best = 0;
      for (int64_t j = 1; j < len; ++j)
        if (v[(o * len + j) * inner + in] > v[(o * len + best) * inner + in])
          best = j;
      if (len) r[(o * len + best) * inner + in] = 1;
    }
  out->push_back(FromDoubles(x->dtype(), x->dims(), r));
  return absl::OkStatus();
}

absl::Status BitShiftKernel(const KernelContext& ctx,
                            std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor &a = *ctx.input(0), &b = *ctx.input(1);
  const bool left = ctx.node.GetString("direction", "") == "LEFT";
  QEFF_ASSIGN_OR_RETURN(Dims od, BroadcastShapes(ctx, {a.dims(), b.dims()}));
  auto ia = BroadcastIndex(a.dims(), od), ib = BroadcastIndex(b.dims(), od);
  std::vector<int64_t> va = AsInts(a), vb = AsInts(b), r(ia.size());
  const int bits = static_cast<int>(DTypeSize(a.dtype()) * 8);
  for (size_t i = 0; i < r.size(); ++i) {
    uint64_t x = static_cast<uint64_t>(va[ia[i]]);
    if (bits < 64) x &= (uint64_t{1} << bits) - 1;
    uint64_t s = static_cast<uint64_t>(vb[ib[i]]);
    r[i] = s >= 64 ? 0 : static_cast<int64_t>(left ? x << s : x >> s);
  }
  out->push_back(FromInts(a.dtype(), od, r));
  return absl::OkStatus();
}

absl::Status NonZeroKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  std::vector<double> v = AsDoubles(*x);
  const int r = std::max(x->rank(), 0);
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i)
    if (v[i] != 0) hits.push_back(i);
  const int64_t n = static_cast<int64_t>(hits.size());
  Dims xs = Strides(x->dims());
  std::vector<int64_t> res(r * n);
  for (int64_t j = 0; j < n; ++j)
    for (int k = 0; k < r; ++k)
      res[k * n + j] = (hits[j] / xs[k]) % x->dims()[k];
  out->push_back(FromInts(DType::kI64, {r, n}, res));
  return absl::OkStatus();
}

// DepthToSpace / SpaceToDepth on NCHW.
absl::Status DepthSpace(const KernelContext& ctx, std::vector<Tensor>* out,
                        bool to_space) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  if (x->rank() != 4) return Error(ctx, "input must be NCHW");
  const int64_t bs = ctx.node.GetInt("blocksize", 0);
  if (bs <= 0) return Error(ctx, "blocksize must be positive");
  const bool crd = ctx.node.GetString("mode", "DCR") == "CRD";
  const int64_t n = x->dims()[0], c = x->dims()[1], h = x->dims()[2],
                w = x->dims()[3];
  size_t es = DTypeSize(x->dtype());
  if (to_space) {
    if (c % (bs * bs)) return Error(ctx, "channels not divisible");
    const int64_t oc = c / (bs * bs);
    Tensor y = Tensor::Zeros(x->dtype(), {n, oc, h * bs, w * bs});
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < oc; ++ch)
        for (int64_t i = 0; i < h * bs; ++i)
          for (int64_t j = 0; j < w * bs; ++j) {
            int64_t bi = i % bs, bj = j % bs;
            int64_t ic =
                crd ? ch * bs * bs + bi * bs + bj : (bi * bs + bj) * oc + ch;
            std::memcpy(
                y.mutable_raw() +
                    (((b * oc + ch) * h * bs + i) * w * bs + j) * es,
                x->raw() + (((b * c + ic) * h + i / bs) * w + j / bs) * es, es);
          }
    out->push_back(std::move(y));
  } else {
    if (h % bs || w % bs) return Error(ctx, "spatial dims not divisible");
    const int64_t oh = h / bs, ow = w / bs, oc = c * bs * bs;
    Tensor y = Tensor::Zeros(x->dtype(), {n, oc, oh, ow});
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < w; ++j) {
            int64_t o = ((i % bs) * bs + (j % bs)) * c + ch;
            std::memcpy(y.mutable_raw() +
                            (((b * oc + o) * oh + i / bs) * ow + j / bs) * es,
                        x->raw() + (((b * c + ch) * h + i) * w + j) * es, es);
          }
    out->push_back(std::move(y));
  }
  return absl::OkStatus();
}

// Per-channel normalisation over dims 2.. of NC... input.
absl::Status ChannelNorm(const KernelContext& ctx, std::vector<Tensor>* out,
                         bool instance) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, instance ? 3 : 5));
  const Tensor& x = *ctx.input(0);
  if (x.rank() < 2) return Error(ctx, "input must have rank >= 2");
  const bool training = !instance && ctx.node.GetInt("training_mode", 0) != 0;
  const double eps = ctx.node.GetFloat("epsilon", 1e-5f);
  const int64_t n = x.dims()[0], c = x.dims()[1];
  const int64_t sp = c == 0 || n == 0 ? 0 : x.num_elements() / (n * c);
  std::vector<double> v = AsDoubles(x), sc = AsDoubles(*ctx.input(1)),
                      bi = AsDoubles(*ctx.input(2));
  std::vector<double> mean, var;
  if (!instance) {
    mean = AsDoubles(*ctx.input(3));
    var = AsDoubles(*ctx.input(4));
  }
  if (training) {
    // Batch statistics (population variance) normalise; the running
    // statistics are blended with `momentum` and returned as outputs 1, 2.
    const double mom = ctx.node.GetFloat("momentum", 0.9f);
    std::vector<double> bm(c, 0), bv(c, 0);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < sp; ++i) bm[ch] += v[(b * c + ch) * sp + i];
    for (double& e : bm) e /= static_cast<double>(n * sp);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < sp; ++i) {
          double d = v[(b * c + ch) * sp + i] - bm[ch];
          bv[ch] += d * d;
        }
    for (double& e : bv) e /= static_cast<double>(n * sp);
    std::vector<double> rm(c), rv(c);
    for (int64_t ch = 0; ch < c; ++ch) {
      rm[ch] = mean[ch] * mom + bm[ch] * (1 - mom);
      rv[ch] = var[ch] * mom + bv[ch] * (1 - mom);
    }
    mean = bm;
    var = bv;
    std::vector<Tensor> stats = {
        FromDoubles(ctx.input(3)->dtype(), ctx.input(3)->dims(), rm),
        FromDoubles(ctx.input(4)->dtype(), ctx.input(4)->dims(), rv)};
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        double* p = v.data() + (b * c + ch) * sp;
        const double inv = 1.0 / std::sqrt(var[ch] + eps);
        for (int64_t i = 0; i < sp; ++i)
          p[i] = (p[i] - mean[ch]) * inv * sc[ch] + bi[ch];
      }
    out->push_back(FromDoubles(x.dtype(), x.dims(), v));
    out->push_back(std::move(stats[0]));
    out->push_back(std::move(stats[1]));
    return absl::OkStatus();
  }
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      double* p = v.data() + (b * c + ch) * sp;
      double m, s2;
      if (instance) {
        m = 0;
        for (int64_t i = 0; i < sp; ++i) m += p[i];
        m /= sp;
        s2 = 0;
        for (int64_t i = 0; i < sp; ++i) s2 += (p[i] - m) * (p[i] - m);
        s2 /= sp;
      } else {
        m = mean[ch];
        s2 = var[ch];
      }
      const double inv = 1.0 / std::sqrt(s2 + eps);
      for (int64_t i = 0; i < sp; ++i)
        p[i] = (p[i] - m) * inv * sc[ch] + bi[ch];
    }
  out->push_back(FromDoubles(x.dtype(), x.dims(), v));
  return absl::OkStatus();
}

absl::Status GlobalPool(const KernelContext& ctx, std::vector<Tensor>* out,
                        bool max) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  if (x->rank() < 2) return Error(ctx, "input must have rank >= 2");
  const int64_t nc = x->dims()[0] * x->dims()[1];
  const int64_t sp = nc == 0 ? 0 : x->num_elements() / nc;
  Dims od = x->dims();
  for (int i = 2; i < x->rank(); ++i) od[i] = 1;
  std::vector<double> v = AsDoubles(*x), r(nc);
  for (int64_t i = 0; i < nc; ++i) {
    double acc = max ? -INFINITY : 0;
    for (int64_t j = 0; j < sp; ++j)
      acc = max ? std::max(acc, v[i * sp + j]) : acc + v[i * sp + j];
    r[i] = max ? acc : acc / sp;
  }
  out->push_back(FromDoubles(x->dtype(), od, r));
  return absl::OkStatus();
}

absl::Status MVNKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  std::vector<int64_t> axes = ctx.node.GetInts("axes", {0, 2, 3});
  std::vector<bool> red(x->rank(), false);
  for (int64_t a : axes) {
    QEFF_ASSIGN_OR_RETURN(int64_t na, NormAxis(ctx, a, x->rank()));
    red[na] = true;
  }
  Dims kd = x->dims();
  for (int i = 0; i < x->rank(); ++i)
    if (red[i]) kd[i] = 1;
  auto map = BroadcastIndex(kd, x->dims());
  std::vector<double> v = AsDoubles(*x);
  int64_t on = NumElements(kd);
  std::vector<double> m(on, 0), s(on, 0), cnt(on, 0);
  for (size_t i = 0; i < v.size(); ++i) {
    m[map[i]] += v[i];
    cnt[map[i]] += 1;
  }
  for (int64_t o = 0; o < on; ++o) m[o] /= cnt[o];
  for (size_t i = 0; i < v.size(); ++i)
    s[map[i]] += (v[i] - m[map[i]]) * (v[i] - m[map[i]]);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = (v[i] - m[map[i]]) / (std::sqrt(s[map[i]] / cnt[map[i]]) + 1e-9);
  out->push_back(FromDoubles(x->dtype(), x->dims(), v));
  return absl::OkStatus();
}

}  // namespace

void RegisterNnKernels() {
  RegActivation("Elu", [](const Node& n) {
    double a = n.GetFloat("alpha", 1.0f);
    return [a](double x) { return x < 0 ? a * (std::exp(x) - 1) : x; };
  });
  RegActivation("Selu", [](const Node& n) {
    double a = n.GetFloat("alpha", 1.67326319217681884765625f);
    double g = n.GetFloat("gamma", 1.05070102214813232421875f);
    return
        [a, g](double x) { return x > 0 ? g * x : g * (a * std::exp(x) - a); };
  });
  RegActivation("LeakyRelu", [](const Node& n) {
    double a = n.GetFloat("alpha", 0.01f);
    return [a](double x) { return x < 0 ? a * x : x; };
  });
  RegActivation("ThresholdedRelu", [](const Node& n) {
    double a = n.GetFloat("alpha", 1.0f);
    return [a](double x) { return x > a ? x : 0.0; };
  });
  RegActivation("HardSigmoid", [](const Node& n) {
    double a = n.GetFloat("alpha", 0.2f), b = n.GetFloat("beta", 0.5f);
    return [a, b](double x) { return std::max(0.0, std::min(1.0, a * x + b)); };
  });
  RegActivation("HardSwish", [](const Node&) {
    return
        [](double x) { return x * std::max(0.0, std::min(1.0, x / 6 + 0.5)); };
  });
  RegActivation("Celu", [](const Node& n) {
    double a = n.GetFloat("alpha", 1.0f);
    return [a](double x) {
      return std::max(0.0, x) + std::min(0.0, a * (std::exp(x / a) - 1));
    };
  });
  RegActivation(
      "Shrink",
      [](const Node& n) {
        double b = n.GetFloat("bias", 0.0f), l = n.GetFloat("lambd", 0.5f);
        return
            [b, l](double x) { return x < -l ? x + b : (x > l ? x - b : 0.0); };
      },
      /*ints_too=*/true);
  RegisterKernel("", "IsInf",
                 [](const KernelContext& ctx, std::vector<Tensor>* out) {
                   QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
                   bool neg = ctx.node.GetInt("detect_negative", 1) != 0;
                   bool pos = ctx.node.GetInt("detect_positive", 1) != 0;
                   std::vector<double> v = AsDoubles(*x);
                   std::vector<int64_t> r(v.size());
                   for (size_t i = 0; i < v.size(); ++i)
                     r[i] = std::isinf(v[i]) && (v[i] > 0 ? pos : neg);
                   out->push_back(FromInts(DType::kBool, x->dims(), r));
                   return absl::OkStatus();
                 });
  RegisterKernel("", "PRelu", PReluKernel);
  RegisterKernel("", "Dropout", DropoutKernel);
  RegisterKernel("", "Tile", TileKernel);
  RegisterKernel("", "Pad", PadKernel);
  RegisterKernel("", "OneHot", OneHotKernel);
  RegisterKernel("", "EyeLike", EyeLikeKernel);
  RegisterKernel("", "Hardmax", HardmaxKernel);
  RegisterKernel("", "BitShift", BitShiftKernel);
  RegisterKernel("", "NonZero", NonZeroKernel);
  RegisterKernel("", "DepthToSpace",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return DepthSpace(c, o, true);
                 });
  RegisterKernel("", "SpaceToDepth",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return DepthSpace(c, o, false);
                 });
  RegisterKernel("", "BatchNormalization",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return ChannelNorm(c, o, false);
                 });
  RegisterKernel("", "InstanceNormalization",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return ChannelNorm(c, o, true);
                 });
  RegisterKernel("", "GlobalAveragePool",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return GlobalPool(c, o, false);
                 });
  RegisterKernel("", "GlobalMaxPool",
                 [](const KernelContext& c, std::vector<Tensor>* o) {
                   return GlobalPool(c, o, true);
                 });
  RegisterKernel("", "MeanVarianceNormalization", MVNKernel);
}

}  // namespace qeff::ir::kernels
