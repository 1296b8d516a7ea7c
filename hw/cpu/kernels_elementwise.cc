// Elementwise kernels with numpy broadcasting: binary arithmetic and
// comparisons, unary math, Cast, Where, Copy. Transcendental unary ops
// evaluate in double and round once to float (as the reference does).
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "hw/cpu/kernels.h"

namespace qeff::hw::cpu {
namespace {

using ir::DType;

// Strides of `in` aligned right to `out` (0 on broadcast dims).
std::vector<int64_t> BroadcastStrides(const std::vector<int64_t>& in,
                                      const std::vector<int64_t>& out) {
  std::vector<int64_t> s(out.size(), 0);
  int64_t stride = 1;
  const int off = static_cast<int>(out.size()) - static_cast<int>(in.size());
  for (int i = static_cast<int>(in.size()) - 1; i >= 0; --i) {
    s[i + off] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return s;
}

// Calls fn(out_index, offsets...) for every output element, the innermost
// dim in a tight loop. N inputs.
template <int N, typename F>
void ForEachBroadcast(const std::vector<int64_t>& out,
                      const std::vector<int64_t>* const ins[N], F fn) {
  const int r = static_cast<int>(out.size());
  std::vector<int64_t> st[N];
  for (int j = 0; j < N; ++j) st[j] = BroadcastStrides(*ins[j], out);
  const int64_t inner = r ? out[r - 1] : 1;
  const int64_t outer = ir::NumElements(out) / (inner ? inner : 1);
  if (ir::NumElements(out) == 0) return;
  auto body = [&](int64_t ob, int64_t oe) {
    std::vector<int64_t> idx(r > 0 ? r - 1 : 0);
    // Decompose ob into idx.
    int64_t rem = ob;
    for (int d = r - 2; d >= 0; --d) {
      idx[d] = rem % out[d];
      rem /= out[d];
    }
    for (int64_t o = ob; o < oe; ++o) {
      int64_t base[N];
      for (int j = 0; j < N; ++j) {
        base[j] = 0;
        for (int d = 0; d < r - 1; ++d) base[j] += idx[d] * st[j][d];
      }
      int64_t in_st[N];
      for (int j = 0; j < N; ++j) in_st[j] = r ? st[j][r - 1] : 0;
      fn(o * inner, inner, base, in_st);
      for (int d = r - 2; d >= 0; --d) {
        if (++idx[d] < out[d]) break;
        idx[d] = 0;
      }
    }
  };
  const int64_t total = outer * inner;
  if (total < (1 << 15)) {
    body(0, outer);
  } else {
    ParallelFor(outer,
                std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(inner, 1)),
                body);
  }
}

enum class Bin {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kMax,
  kMin,
  kGt,
  kLt,
  kGe,
  kLe,
  kEq,
  kAnd,
  kOr
};

template <typename T>
inline T Arith(Bin op, T a, T b) {
  switch (op) {
    case Bin::kAdd:
      return a + b;
    case Bin::kSub:
      return a - b;
    case Bin::kMul:
      return a * b;
    case Bin::kDiv:
      if constexpr (std::is_integral_v<T>)
        return b == 0 ? 0 : a / b;
      else
        return a / b;
    case Bin::kPow:
      if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(
            std::pow(static_cast<double>(a), static_cast<double>(b)));
      } else {
        if (b == 2) return a * a;
        return static_cast<T>(
            std::pow(static_cast<double>(a), static_cast<double>(b)));
      }
    case Bin::kMax:
      return a > b ? a : b;
    case Bin::kMin:
      return a < b ? a : b;
    default:
      return 0;
  }
}

template <typename T>
inline bool Compare(Bin op, T a, T b) {
  switch (op) {
    case Bin::kGt:
      return a > b;
    case Bin::kLt:
      return a < b;
    case Bin::kGe:
      return a >= b;
    case Bin::kLe:
      return a <= b;
    case Bin::kEq:
      return a == b;
    default:
      return false;
  }
}

template <typename T>
absl::Status BinaryTyped(const KernelCtx& k, Bin op) {
  const Arg& a = k.in[0];
  const Arg& b = k.in[1];
  const Arg& o = k.out[0];
  const std::vector<int64_t>* ins[2] = {&a.dims(), &b.dims()};
  const T* pa = a.in<T>();
  const T* pb = b.in<T>();
  const bool cmp = op >= Bin::kGt && op <= Bin::kEq;
  if (cmp) {
    bool* po = o.out<bool>();
    ForEachBroadcast<2>(
        o.dims(), ins,
        [&](int64_t ob, int64_t n, const int64_t* base, const int64_t* st) {
          for (int64_t i = 0; i < n; ++i)
            po[ob + i] = Compare<T>(op, pa[base[0] + i * st[0]],
                                    pb[base[1] + i * st[1]]);
        });
  } else {
    T* po = o.out<T>();
    ForEachBroadcast<2>(
        o.dims(), ins,
        [&](int64_t ob, int64_t n, const int64_t* base, const int64_t* st) {
          for (int64_t i = 0; i < n; ++i)
            po[ob + i] =
                Arith<T>(op, pa[base[0] + i * st[0]], pb[base[1] + i * st[1]]);
        });
  }
  return absl::OkStatus();
}

template <Bin kOp>
absl::Status Binary(const KernelCtx& k) {
  DType t = k.in[0].slot->dtype;
  if (k.in[1].slot->dtype != t) return KernelError(k, "operand dtypes differ");
  if (kOp == Bin::kAnd || kOp == Bin::kOr) {
    if (t != DType::kBool) return KernelError(k, "And/Or need bool operands");
    const std::vector<int64_t>* ins[2] = {&k.in[0].dims(), &k.in[1].dims()};
    const bool* pa = k.in[0].in<bool>();
    const bool* pb = k.in[1].in<bool>();
    bool* po = k.out[0].out<bool>();
    ForEachBroadcast<2>(
        k.out[0].dims(), ins,
        [&](int64_t ob, int64_t n, const int64_t* base, const int64_t* st) {
          for (int64_t i = 0; i < n; ++i) {
            bool x = pa[base[0] + i * st[0]], y = pb[base[1] + i * st[1]];
            po[ob + i] = kOp == Bin::kAnd ? (x && y) : (x || y);
          }
        });
    return absl::OkStatus();
  }
  switch (t) {
    case DType::kF32:
      return BinaryTyped<float>(k, kOp);
    case DType::kI64:
      return BinaryTyped<int64_t>(k, kOp);
    case DType::kI32:
      return BinaryTyped<int32_t>(k, kOp);
    case DType::kF64:
      return BinaryTyped<double>(k, kOp);
    default:
      return KernelError(k,
                         absl::StrCat("unsupported dtype ", ir::DTypeName(t)));
  }
}

enum class Un {
  kNeg,
  kSqrt,
  kRecip,
  kCos,
  kSin,
  kSigmoid,
  kExp,
  kTanh,
  kRelu,
  kAbs,
  kLog,
  kErf,
  kNot
};

template <Un kOp>
absl::Status Unary(const KernelCtx& k) {
  const Arg& a = k.in[0];
  const int64_t n = a.n();
  if (kOp == Un::kNot) {
    const bool* p = a.in<bool>();
    bool* o = k.out[0].out<bool>();
    for (int64_t i = 0; i < n; ++i) o[i] = !p[i];
    return absl::OkStatus();
  }
  if (a.slot->dtype == DType::kI64 && (kOp == Un::kNeg || kOp == Un::kAbs)) {
    const int64_t* p = a.in<int64_t>();
    int64_t* o = k.out[0].out<int64_t>();
    for (int64_t i = 0; i < n; ++i)
      o[i] = kOp == Un::kNeg ? -p[i] : std::llabs(p[i]);
    return absl::OkStatus();
  }
  if (a.slot->dtype != DType::kF32)
    return KernelError(
        k, absl::StrCat("unsupported dtype ", ir::DTypeName(a.slot->dtype)));
  const float* p = a.in<float>();
  float* o = k.out[0].out<float>();
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double x = p[i];
      double y;
      switch (kOp) {
        case Un::kNeg:
          o[i] = -p[i];
          continue;
        case Un::kRelu:
          o[i] = p[i] > 0 ? p[i] : 0.0f;
          continue;
        case Un::kAbs:
          o[i] = std::fabs(p[i]);
          continue;
        case Un::kSqrt:
          y = std::sqrt(x);
          break;
        case Un::kRecip:
          y = 1.0 / x;
          break;
        case Un::kCos:
          y = std::cos(x);
          break;
        case Un::kSin:
          y = std::sin(x);
          break;
        case Un::kSigmoid:
          y = 1.0 / (1.0 + std::exp(-x));
          break;
        case Un::kExp:
          y = std::exp(x);
          break;
        case Un::kTanh:
          y = std::tanh(x);
          break;
        case Un::kLog:
          y = std::log(x);
          break;
        case Un::kErf:
          y = std::erf(x);
          break;
        default:
          y = 0;
      }
      o[i] = static_cast<float>(y);
    }
  };
  if (n < (1 << 15))
    body(0, n);
  else
    ParallelFor(n, 1 << 13, body);
  return absl::OkStatus();
}

template <typename From>
double LoadAsDouble(const uint8_t* p, int64_t i) {
  return static_cast<double>(reinterpret_cast<const From*>(p)[i]);
}

double LoadDouble(DType t, const uint8_t* p, int64_t i) {
  switch (t) {
    case DType::kF32:
      return LoadAsDouble<float>(p, i);
    case DType::kF64:
      return LoadAsDouble<double>(p, i);
    case DType::kF16:
      return ir::HalfToFloat(reinterpret_cast<const uint16_t*>(p)[i]);
    case DType::kBF16:
      return ir::BFloat16ToFloat(reinterpret_cast<const uint16_t*>(p)[i]);
    case DType::kI8:
      return LoadAsDouble<int8_t>(p, i);
    case DType::kU8:
      return LoadAsDouble<uint8_t>(p, i);
    case DType::kI32:
      return LoadAsDouble<int32_t>(p, i);
    case DType::kI64:
      return LoadAsDouble<int64_t>(p, i);
    case DType::kBool:
      return reinterpret_cast<const bool*>(p)[i] ? 1.0 : 0.0;
    default:
      return 0;
  }
}

bool StoreDouble(DType t, uint8_t* p, int64_t i, double v) {
  switch (t) {
    case DType::kF32:
      reinterpret_cast<float*>(p)[i] = static_cast<float>(v);
      return true;
    case DType::kF64:
      reinterpret_cast<double*>(p)[i] = v;
      return true;
    case DType::kF16:
      reinterpret_cast<uint16_t*>(p)[i] =
          ir::FloatToHalf(static_cast<float>(v));
      return true;
    case DType::kBF16:
      reinterpret_cast<uint16_t*>(p)[i] =
          ir::FloatToBFloat16(static_cast<float>(v));
      return true;
    case DType::kI8:
      reinterpret_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
      return true;
    case DType::kU8:
      reinterpret_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v);
      return true;
    case DType::kI32:
      reinterpret_cast<int32_t*>(p)[i] = static_cast<int32_t>(v);
      return true;
    case DType::kI64:
      reinterpret_cast<int64_t*>(p)[i] = static_cast<int64_t>(v);
      return true;
    case DType::kBool:
      reinterpret_cast<bool*>(p)[i] = v != 0;
      return true;
    default:
      return false;
  }
}

absl::Status Cast(const KernelCtx& k) {
  const Arg& a = k.in[0];
  const Arg& o = k.out[0];
  const DType from = a.slot->dtype, to = o.slot->dtype;
  const int64_t n = a.n();
  if (from == to) {
    std::memcpy(o.data, a.data, n * ir::DTypeSize(from));
    return absl::OkStatus();
  }
  if (from == DType::kI64 && to == DType::kF32) {
    for (int64_t i = 0; i < n; ++i)
      o.out<float>()[i] = static_cast<float>(a.in<int64_t>()[i]);
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < n; ++i) {
    if (from == DType::kI64 && to == DType::kI32) {
      o.out<int32_t>()[i] = static_cast<int32_t>(a.in<int64_t>()[i]);
    } else if (!StoreDouble(to, o.data, i, LoadDouble(from, a.data, i))) {
      return KernelError(
          k, absl::StrCat("unsupported cast ", ir::DTypeName(from), " -> ",
                          ir::DTypeName(to)));
    }
  }
  return absl::OkStatus();
}

absl::Status Where(const KernelCtx& k) {
  const Arg& c = k.in[0];
  const Arg& x = k.in[1];
  const Arg& y = k.in[2];
  const Arg& o = k.out[0];
  const size_t es = ir::DTypeSize(o.slot->dtype);
  const std::vector<int64_t>* ins[3] = {&c.dims(), &x.dims(), &y.dims()};
  const bool* pc = c.in<bool>();
  if (es == 4) {
    const uint32_t* px = x.in<uint32_t>();
    const uint32_t* py = y.in<uint32_t>();
    uint32_t* po = o.out<uint32_t>();
    ForEachBroadcast<3>(
        o.dims(), ins,
        [&](int64_t ob, int64_t n, const int64_t* b, const int64_t* s) {
          for (int64_t i = 0; i < n; ++i)
            po[ob + i] =
                pc[b[0] + i * s[0]] ? px[b[1] + i * s[1]] : py[b[2] + i * s[2]];
        });
  } else {
    ForEachBroadcast<3>(
        o.dims(), ins,
        [&](int64_t ob, int64_t n, const int64_t* b, const int64_t* s) {
          for (int64_t i = 0; i < n; ++i) {
            const uint8_t* src = pc[b[0] + i * s[0]]
                                     ? x.data + (b[1] + i * s[1]) * es
                                     : y.data + (b[2] + i * s[2]) * es;
            std::memcpy(o.data + (ob + i) * es, src, es);
          }
        });
  }
  return absl::OkStatus();
}

// Copy: same bytes (a reshape that could not alias, an output, state).
absl::Status Copy(const KernelCtx& k) {
  const size_t bytes = k.in[0].n() * ir::DTypeSize(k.in[0].slot->dtype);
  if (k.out[0].data != k.in[0].data)
    std::memmove(k.out[0].data, k.in[0].data, bytes);
  return absl::OkStatus();
}

}  // namespace

void RegisterElementwiseKernels() {
  RegisterKernel("Add", Binary<Bin::kAdd>);
  RegisterKernel("Sub", Binary<Bin::kSub>);
  RegisterKernel("Mul", Binary<Bin::kMul>);
  RegisterKernel("Div", Binary<Bin::kDiv>);
  RegisterKernel("Pow", Binary<Bin::kPow>);
  RegisterKernel("Max", Binary<Bin::kMax>);
  RegisterKernel("Min", Binary<Bin::kMin>);
  RegisterKernel("Greater", Binary<Bin::kGt>);
  RegisterKernel("Less", Binary<Bin::kLt>);
  RegisterKernel("GreaterOrEqual", Binary<Bin::kGe>);
  RegisterKernel("LessOrEqual", Binary<Bin::kLe>);
  RegisterKernel("Equal", Binary<Bin::kEq>);
  RegisterKernel("And", Binary<Bin::kAnd>);
  RegisterKernel("Or", Binary<Bin::kOr>);
  RegisterKernel("Neg", Unary<Un::kNeg>);
  RegisterKernel("Sqrt", Unary<Un::kSqrt>);
  RegisterKernel("Reciprocal", Unary<Un::kRecip>);
  RegisterKernel("Cos", Unary<Un::kCos>);
  RegisterKernel("Sin", Unary<Un::kSin>);
  RegisterKernel("Sigmoid", Unary<Un::kSigmoid>);
  RegisterKernel("Exp", Unary<Un::kExp>);
  RegisterKernel("Tanh", Unary<Un::kTanh>);
  RegisterKernel("Relu", Unary<Un::kRelu>);
  RegisterKernel("Abs", Unary<Un::kAbs>);
  RegisterKernel("Log", Unary<Un::kLog>);
  RegisterKernel("Erf", Unary<Un::kErf>);
  RegisterKernel("Not", Unary<Un::kNot>);
  RegisterKernel("Cast", Cast);
  RegisterKernel("Where", Where);
  RegisterKernel("Copy", Copy);
}

}  // namespace qeff::hw::cpu
