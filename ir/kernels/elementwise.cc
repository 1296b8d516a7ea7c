// Elementwise kernels: unary math, numpy-broadcast binary arithmetic,
// comparisons and logic, Where, variadic Max/Min, Clip, Cast.
// Floats compute in double and round once to the output dtype; integers
// compute in int64 (uint64 for u64) and wrap to the output width.
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "base/status_macros.h"
#include "ir/kernels/kernel_util.h"
#include "ir/kernels/registry.h"

namespace qeff::ir::kernels {
namespace {

using DoubleFn = std::function<double(double)>;
using IntFn = std::function<int64_t(int64_t)>;

// Which wide type computes an op on dtype `t`.
enum class Path { kFloat, kInt, kUInt };
Path PathOf(DType t) {
  if (IsFloat(t)) return Path::kFloat;
  if (t == DType::kU64) return Path::kUInt;
  return Path::kInt;
}

// Unary op: `f` for float dtypes, `fi` (may be null) for integer/bool ones.
Kernel Unary(DoubleFn f, IntFn fi, bool bool_only = false) {
  return [f, fi, bool_only](const KernelContext& ctx,
                            std::vector<Tensor>* out) -> absl::Status {
    QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
    DType t = x->dtype();
    if (bool_only != (t == DType::kBool)) {
      return Error(ctx, "unsupported input type ", x->TypeString());
    }
    if (IsFloat(t) && f) {
      std::vector<double> v = AsDoubles(*x);
      for (double& e : v) e = f(e);
      out->push_back(FromDoubles(t, x->dims(), v));
      return absl::OkStatus();
    }
    if (!IsFloat(t) && fi) {
      std::vector<int64_t> v = AsInts(*x);
      for (int64_t& e : v) e = fi(e);
      out->push_back(FromInts(t, x->dims(), v));
      return absl::OkStatus();
    }
    return Error(ctx, "unsupported input type ", x->TypeString());
  };
}

void RegUnary(const char* name, DoubleFn f, IntFn fi = nullptr) {
  RegisterKernel("", name, Unary(std::move(f), std::move(fi)));
}

// Applies `f` (a generic lambda over double / int64_t / uint64_t) to the
// broadcast inputs a, b. Result dtype: bool for predicates, else a's.
template <typename F>
absl::Status Binary(const KernelContext& ctx, std::vector<Tensor>* out, F f,
                    bool predicate) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  if (a.dtype() != b.dtype()) {
    return Error(ctx, "input types differ: ", a.TypeString(), " vs ",
                 b.TypeString());
  }
  QEFF_ASSIGN_OR_RETURN(Dims dims, BroadcastShapes(ctx, {a.dims(), b.dims()}));
  std::vector<int64_t> ia = BroadcastIndex(a.dims(), dims);
  std::vector<int64_t> ib = BroadcastIndex(b.dims(), dims);
  int64_t n = NumElements(dims);
  DType t = a.dtype();
  DType ot = predicate ? DType::kBool : t;
  switch (PathOf(t)) {
    case Path::kFloat: {
      std::vector<double> va = AsDoubles(a), vb = AsDoubles(b), r(n);
      for (int64_t i = 0; i < n; ++i) r[i] = f(va[ia[i]], vb[ib[i]]);
      out->push_back(FromDoubles(ot, dims, r));
      break;
    }
    case Path::kInt: {
      std::vector<int64_t> va = AsInts(a), vb = AsInts(b), r(n);
      for (int64_t i = 0; i < n; ++i) r[i] = f(va[ia[i]], vb[ib[i]]);
      out->push_back(FromInts(ot, dims, r));
      break;
    }
    case Path::kUInt: {
      std::vector<int64_t> va = AsInts(a), vb = AsInts(b), r(n);
      for (int64_t i = 0; i < n; ++i) {
        r[i] = static_cast<int64_t>(f(static_cast<uint64_t>(va[ia[i]]),
                                      static_cast<uint64_t>(vb[ib[i]])));
      }
      out->push_back(FromInts(ot, dims, r));
      break;
    }
  }
  return absl::OkStatus();
}

template <typename F>
void RegBinary(const char* name, F f, bool predicate = false,
               bool float_ok = true, bool int_ok = true,
               bool bool_only = false) {
  RegisterKernel(
      "", name, [=](const KernelContext& ctx, std::vector<Tensor>* out) {
        QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
        DType t = ctx.input(0)->dtype();
        bool ok =
            bool_only ? t == DType::kBool : (IsFloat(t) ? float_ok : int_ok);
        if (!ok) {
          return Error(ctx, "unsupported input type ",
                       ctx.input(0)->TypeString());
        }
        return Binary(ctx, out, f, predicate);
      });
}

absl::Status PowKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  QEFF_ASSIGN_OR_RETURN(Dims dims, BroadcastShapes(ctx, {a.dims(), b.dims()}));
  std::vector<int64_t> ia = BroadcastIndex(a.dims(), dims);
  std::vector<int64_t> ib = BroadcastIndex(b.dims(), dims);
  int64_t n = NumElements(dims);
  if (!IsFloat(a.dtype()) && !IsFloat(b.dtype())) {
    // Integer power by repeated multiplication (exact, wraps like numpy).
    std::vector<int64_t> va = AsInts(a), vb = AsInts(b), r(n);
    for (int64_t i = 0; i < n; ++i) {
      int64_t base = va[ia[i]], e = vb[ib[i]];
      uint64_t acc = 1;
      if (e < 0) {
        acc = base == 1 ? 1 : (base == -1 ? (e % 2 ? -1 : 1) : 0);
      } else {
        uint64_t bb = static_cast<uint64_t>(base);
        while (e > 0) {
          if (e & 1) acc *= bb;
          bb *= bb;
          e >>= 1;
        }
      }
      r[i] = static_cast<int64_t>(acc);
    }
    out->push_back(FromInts(a.dtype(), dims, r));
    return absl::OkStatus();
  }
  std::vector<double> va = AsDoubles(a), vb = AsDoubles(b), r(n);
  for (int64_t i = 0; i < n; ++i) r[i] = std::pow(va[ia[i]], vb[ib[i]]);
  out->push_back(FromDoubles(a.dtype(), dims, r));
  return absl::OkStatus();
}

absl::Status ModKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  const bool fmod = ctx.node.GetInt("fmod", 0) != 0;
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  if (IsFloat(ctx.input(0)->dtype()) && !fmod) {
    return Error(ctx, "fmod must be 1 for floating point inputs");
  }
  return Binary(
      ctx, out,
      [fmod](auto a, auto b) -> decltype(a) {
        using T = decltype(a);
        if constexpr (std::is_floating_point_v<T>) {
          return std::fmod(a, b);
        } else {
          if (b == 0) return 0;
          if constexpr (std::is_signed_v<T>) {
            if (b == -1) return 0;  // avoids INT64_MIN % -1
            T r = a % b;
            if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
            return r;
          } else {
            return a % b;
          }
        }
      },
      false);
}

absl::Status WhereKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 3));
  const Tensor& c = *ctx.input(0);
  const Tensor& x = *ctx.input(1);
  const Tensor& y = *ctx.input(2);
  if (c.dtype() != DType::kBool) {
    return Error(ctx, "condition must be bool, got ", c.TypeString());
  }
  if (x.dtype() != y.dtype()) {
    return Error(ctx, "X and Y types differ: ", x.TypeString(), " vs ",
                 y.TypeString());
  }
  QEFF_ASSIGN_OR_RETURN(Dims dims,
                        BroadcastShapes(ctx, {c.dims(), x.dims(), y.dims()}));
  auto ic = BroadcastIndex(c.dims(), dims);
  auto ix = BroadcastIndex(x.dims(), dims);
  auto iy = BroadcastIndex(y.dims(), dims);
  Tensor r = Tensor::Zeros(x.dtype(), dims);
  size_t es = DTypeSize(x.dtype());
  const uint8_t* pc = c.raw();
  for (int64_t i = 0; i < r.num_elements(); ++i) {
    const uint8_t* src =
        pc[ic[i]] ? x.raw() + ix[i] * es : y.raw() + iy[i] * es;
    std::memcpy(r.mutable_raw() + i * es, src, es);
  }
  out->push_back(std::move(r));
  return absl::OkStatus();
}

// Variadic Max / Min / Sum / Mean with broadcasting.
template <typename F>
absl::Status Variadic(const KernelContext& ctx, std::vector<Tensor>* out, F f,
                      bool mean) {
  std::vector<Dims> shapes;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (!ctx.inputs[i]) return Error(ctx, "missing input ", i);
    if (ctx.inputs[i]->dtype() != ctx.inputs[0]->dtype()) {
      return Error(ctx, "input types differ");
    }
    shapes.push_back(ctx.inputs[i]->dims());
  }
  if (shapes.empty()) return Error(ctx, "needs at least one input");
  QEFF_ASSIGN_OR_RETURN(Dims dims, BroadcastShapes(ctx, shapes));
  int64_t n = NumElements(dims);
  DType t = ctx.inputs[0]->dtype();
  if (PathOf(t) == Path::kFloat) {
    std::vector<double> r;
    for (size_t k = 0; k < ctx.inputs.size(); ++k) {
      auto idx = BroadcastIndex(ctx.inputs[k]->dims(), dims);
      auto v = AsDoubles(*ctx.inputs[k]);
      if (k == 0) {
        r.resize(n);
        for (int64_t i = 0; i < n; ++i) r[i] = v[idx[i]];
      } else {
        for (int64_t i = 0; i < n; ++i) r[i] = f(r[i], v[idx[i]]);
      }
    }
    if (mean)
      for (double& e : r) e /= static_cast<double>(ctx.inputs.size());
    out->push_back(FromDoubles(t, dims, r));
    return absl::OkStatus();
  }
  bool u = PathOf(t) == Path::kUInt;
  std::vector<int64_t> r;
  for (size_t k = 0; k < ctx.inputs.size(); ++k) {
    auto idx = BroadcastIndex(ctx.inputs[k]->dims(), dims);
    auto v = AsInts(*ctx.inputs[k]);
    if (k == 0) {
      r.resize(n);
      for (int64_t i = 0; i < n; ++i) r[i] = v[idx[i]];
    } else {
      for (int64_t i = 0; i < n; ++i) {
        r[i] = u ? static_cast<int64_t>(f(static_cast<uint64_t>(r[i]),
                                          static_cast<uint64_t>(v[idx[i]])))
                 : f(r[i], v[idx[i]]);
      }
    }
  }
  if (mean)
    for (int64_t& e : r) e /= static_cast<int64_t>(ctx.inputs.size());
  out->push_back(FromInts(t, dims, r));
  return absl::OkStatus();
}

absl::Status ClipKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  const Tensor* lo = ctx.input(1);
  const Tensor* hi = ctx.input(2);
  for (const Tensor* b : {lo, hi}) {
    if (b && (b->num_elements() != 1 || b->dtype() != x->dtype())) {
      return Error(ctx, "min/max must be scalars of the input's type, got ",
                   b->TypeString());
    }
  }
  if (PathOf(x->dtype()) == Path::kFloat) {
    // Opset < 11 form: min/max attributes.
    double l =
        lo ? lo->GetDouble(0)
           : ctx.node.GetFloat("min", -std::numeric_limits<float>::max());
    double h = hi ? hi->GetDouble(0)
                  : ctx.node.GetFloat("max", std::numeric_limits<float>::max());
    if (!lo && !ctx.node.attr("min")) l = -INFINITY;
    if (!hi && !ctx.node.attr("max")) h = INFINITY;
    std::vector<double> v = AsDoubles(*x);
    for (double& e : v) {
      if (std::isnan(e)) continue;
      e = std::min(std::max(e, l), h);
    }
    out->push_back(FromDoubles(x->dtype(), x->dims(), v));
    return absl::OkStatus();
  }
  bool u = PathOf(x->dtype()) == Path::kUInt;
  std::vector<int64_t> v = AsInts(*x);
  for (int64_t& e : v) {
    if (u) {
      uint64_t ue = static_cast<uint64_t>(e);
      if (lo) ue = std::max(ue, static_cast<uint64_t>(lo->GetInt(0)));
      if (hi) ue = std::min(ue, static_cast<uint64_t>(hi->GetInt(0)));
      e = static_cast<int64_t>(ue);
    } else {
      if (lo) e = std::max(e, lo->GetInt(0));
      if (hi) e = std::min(e, hi->GetInt(0));
    }
  }
  out->push_back(FromInts(x->dtype(), x->dims(), v));
  return absl::OkStatus();
}

absl::Status CastTo(const KernelContext& ctx, const Tensor& x, DType to,
                    std::vector<Tensor>* out) {
  Tensor r = Tensor::Zeros(to, x.dims());
  int64_t n = x.num_elements();
  if (x.dtype() == to) {
    out->push_back(x);
    return absl::OkStatus();
  }
  if (IsFloat(x.dtype())) {
    std::vector<double> v = AsDoubles(x);
    for (int64_t i = 0; i < n; ++i) StoreDouble(r, i, v[i]);
  } else if (x.dtype() == DType::kU64) {
    std::vector<int64_t> v = AsInts(x);
    for (int64_t i = 0; i < n; ++i) {
      if (IsFloat(to))
        StoreDouble(r, i, static_cast<double>(static_cast<uint64_t>(v[i])));
      else
        StoreInt(r, i, v[i]);
    }
  } else {
    std::vector<int64_t> v = AsInts(x);
    for (int64_t i = 0; i < n; ++i) StoreInt(r, i, v[i]);
  }
  out->push_back(std::move(r));
  return absl::OkStatus();
}

absl::Status CastKernel(const KernelContext& ctx, std::vector<Tensor>* out) {
  QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
  const Attribute* to = ctx.node.attr("to");
  if (to == nullptr || to->kind() != Attribute::Kind::kInt) {
    return Error(ctx, "missing int attribute 'to'");
  }
  auto t = DTypeFromOnnx(static_cast<int>(to->i()));
  if (!t.ok()) return Error(ctx, t.status().message());
  return CastTo(ctx, *x, *t, out);
}

absl::Status CastLikeKernel(const KernelContext& ctx,
                            std::vector<Tensor>* out) {
  QEFF_RETURN_IF_ERROR(RequireInputs(ctx, 2));
  return CastTo(ctx, *ctx.input(0), ctx.input(1)->dtype(), out);
}

double RoundHalfEven(double x) { return std::nearbyint(x); }

}  // namespace

void RegisterElementwiseKernels() {
  // --- unary ---
  RegUnary("Sqrt", [](double x) { return std::sqrt(x); });
  RegUnary("Reciprocal", [](double x) { return 1.0 / x; });
  RegUnary(
      "Neg", [](double x) { return -x; },
      [](int64_t x) { return static_cast<int64_t>(0ull - x); });
  RegUnary("Exp", [](double x) { return std::exp(x); });
  RegUnary("Log", [](double x) { return std::log(x); });
  RegUnary("Tanh", [](double x) { return std::tanh(x); });
  // erf of an integer truncates to 0 (|erf| < 1 for finite inputs).
  RegUnary(
      "Erf", [](double x) { return std::erf(x); },
      [](int64_t) -> int64_t { return 0; });
  RegUnary("Sigmoid", [](double x) {
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x))
                  : std::exp(x) / (1.0 + std::exp(x));
  });
  RegUnary("Sin", [](double x) { return std::sin(x); });
  RegUnary("Cos", [](double x) { return std::cos(x); });
  RegUnary("Tan", [](double x) { return std::tan(x); });
  RegUnary("Asin", [](double x) { return std::asin(x); });
  RegUnary("Acos", [](double x) { return std::acos(x); });
  RegUnary("Atan", [](double x) { return std::atan(x); });
  RegUnary("Sinh", [](double x) { return std::sinh(x); });
  RegUnary("Cosh", [](double x) { return std::cosh(x); });
  RegUnary("Asinh", [](double x) { return std::asinh(x); });
  RegUnary("Acosh", [](double x) { return std::acosh(x); });
  RegUnary("Atanh", [](double x) { return std::atanh(x); });
  RegUnary(
      "Relu", [](double x) { return x < 0 ? 0.0 : x; },
      [](int64_t x) -> int64_t { return x < 0 ? 0 : x; });
  RegUnary("Floor", [](double x) { return std::floor(x); });
  RegUnary("Ceil", [](double x) { return std::ceil(x); });
  RegUnary("Round", RoundHalfEven);
  RegUnary("Softplus", [](double x) {
    return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  });
  RegUnary("Softsign", [](double x) { return x / (1 + std::fabs(x)); });
  // Abs / Sign depend on signedness: registered with dtype-aware kernels.
  RegisterKernel(
      "", "Abs", [](const KernelContext& ctx, std::vector<Tensor>* out) {
        QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
        if (IsUnsigned(x->dtype())) {
          out->push_back(*x);
          return absl::OkStatus();
        }
        return Unary([](double v) { return std::fabs(v); },
                     [](int64_t v) {
                       return v < 0 ? static_cast<int64_t>(0ull - v) : v;
                     })(ctx, out);
      });
  RegisterKernel("", "Sign",
                 [](const KernelContext& ctx, std::vector<Tensor>* out) {
                   QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
                   bool u = IsUnsigned(x->dtype());
                   return Unary(
                       [](double v) -> double {
                         return std::isnan(v) ? v : (v > 0) - (v < 0);
                       },
                       [u](int64_t v) -> int64_t {
                         if (u) return v != 0;
                         return (v > 0) - (v < 0);
                       })(ctx, out);
                 });
  RegisterKernel("", "Not",
                 Unary(
                     nullptr, [](int64_t v) -> int64_t { return v == 0; },
                     /*bool_only=*/true));
  RegisterKernel("", "IsNaN",
                 [](const KernelContext& ctx, std::vector<Tensor>* out) {
                   QEFF_ASSIGN_OR_RETURN(const Tensor* x, Required(ctx, 0));
                   std::vector<int64_t> r(x->num_elements());
                   auto v = AsDoubles(*x);
                   for (size_t i = 0; i < r.size(); ++i)
                     r[i] = std::isnan(v[i]);
                   out->push_back(FromInts(DType::kBool, x->dims(), r));
                   return absl::OkStatus();
                 });

  // --- binary arithmetic ---
  RegBinary("Add", [](auto a, auto b) -> decltype(a) { return a + b; });
  RegBinary("Sub", [](auto a, auto b) -> decltype(a) { return a - b; });
  RegBinary("Mul", [](auto a, auto b) -> decltype(a) { return a * b; });
  RegBinary("Div", [](auto a, auto b) -> decltype(a) {
    using T = decltype(a);
    if constexpr (std::is_floating_point_v<T>) {
      return a / b;
    } else {
      if (b == 0) return 0;  // numpy gives 0 for integer division by zero
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return static_cast<T>(0ull - static_cast<uint64_t>(a));
      }
      return a / b;  // truncates toward zero (C, onnxruntime)
    }
  });
  RegisterKernel("", "Pow", PowKernel);
  RegisterKernel("", "Mod", ModKernel);

  // --- comparisons and logic (bool output) ---
  RegBinary(
      "Equal", [](auto a, auto b) { return a == b; }, true);
  RegBinary(
      "Less", [](auto a, auto b) { return a < b; }, true);
  RegBinary(
      "Greater", [](auto a, auto b) { return a > b; }, true);
  RegBinary(
      "LessOrEqual", [](auto a, auto b) { return a <= b; }, true);
  RegBinary(
      "GreaterOrEqual", [](auto a, auto b) { return a >= b; }, true);
  RegBinary(
      "And", [](auto a, auto b) { return a != 0 && b != 0; }, true, false,
      false, true);
  RegBinary(
      "Or", [](auto a, auto b) { return a != 0 || b != 0; }, true, false, false,
      true);
  RegBinary(
      "Xor", [](auto a, auto b) { return (a != 0) != (b != 0); }, true, false,
      false, true);

  RegisterKernel("", "Where", WhereKernel);
  RegisterKernel("", "Max",
                 [](const KernelContext& ctx, std::vector<Tensor>* out) {
                   return Variadic(
                       ctx, out,
                       [](auto a, auto b) -> decltype(a) {
                         if constexpr (std::is_floating_point_v<decltype(a)>) {
                           if (std::isnan(a) || std::isnan(b)) return NAN;
                         }
                         return a < b ? b : a;
                       },
                       false);
                 });
  RegisterKernel("", "Min",
                 [](const KernelContext& ctx, std::vector<Tensor>* out) {
                   return Variadic(
                       ctx, out,
                       [](auto a, auto b) -> decltype(a) {
                         if constexpr (std::is_floating_point_v<decltype(a)>) {
                           if (std::isnan(a) || std::isnan(b)) return NAN;
                         }
                         return b < a ? b : a;
                       },
                       false);
                 });
  RegisterKernel(
      "", "Sum", [](const KernelContext& ctx, std::vector<Tensor>* out) {
        return Variadic(
            ctx, out, [](auto a, auto b) -> decltype(a) { return a + b; },
            false);
      });
  RegisterKernel(
      "", "Mean", [](const KernelContext& ctx, std::vector<Tensor>* out) {
        return Variadic(
            ctx, out, [](auto a, auto b) -> decltype(a) { return a + b; },
            true);
      });
  RegisterKernel("", "Clip", ClipKernel);
  RegisterKernel("", "Cast", CastKernel);
  RegisterKernel("", "CastLike", CastLikeKernel);
}

}  // namespace qeff::ir::kernels
