#include "ir/kernels/kernel_util.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_join.h"

namespace qeff::ir::kernels {

absl::StatusOr<const Tensor*> Required(const KernelContext& ctx, int i) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) return Error(ctx, "missing required input ", i);
  return t;
}

absl::Status RequireInputs(const KernelContext& ctx, int min) {
  for (int i = 0; i < min; ++i) {
    if (ctx.input(i) == nullptr)
      return Error(ctx, "missing required input ", i);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> NormAxis(const KernelContext& ctx, int64_t axis,
                                 int64_t rank) {
  if (axis < -rank || axis >= rank) {
    return Error(ctx, "axis ", axis, " out of range for rank ", rank);
  }
  return axis < 0 ? axis + rank : axis;
}

Dims Strides(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * dims[i + 1];
  return s;
}

std::string DimsString(const Dims& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

absl::StatusOr<Dims> BroadcastShapes(const KernelContext& ctx,
                                     const std::vector<Dims>& shapes) {
  size_t rank = 0;
  for (const Dims& s : shapes) rank = std::max(rank, s.size());
  Dims out(rank, 1);
  for (size_t k = 0; k < rank; ++k) {
    bool have = false;
    for (const Dims& s : shapes) {
      if (s.size() + k < rank) continue;
      int64_t d = s[s.size() - rank + k];
      if (d == 1) continue;
      if (!have) {
        out[k] = d;
        have = true;
      } else if (out[k] != d) {
        std::vector<std::string> txt;
        for (const Dims& x : shapes) txt.push_back(DimsString(x));
        return Error(ctx, "shapes ", absl::StrJoin(txt, ", "),
                     " do not broadcast");
      }
    }
  }
  return out;
}

std::vector<int64_t> BroadcastIndex(const Dims& in, const Dims& out) {
  int64_t n = NumElements(out);
  std::vector<int64_t> idx(n, 0);
  if (n == 0) return idx;
  size_t r = out.size();
  Dims in_strides(r, 0);
  Dims is = Strides(in);
  for (size_t k = 0; k < in.size(); ++k) {
    size_t ok = r - in.size() + k;
    in_strides[ok] = in[k] == 1 ? 0 : is[k];
  }
  Dims pos(r, 0);
  int64_t cur = 0;
  for (int64_t i = 0; i < n; ++i) {
    idx[i] = cur;
    for (int k = static_cast<int>(r) - 1; k >= 0; --k) {
      if (++pos[k] < out[k]) {
        cur += in_strides[k];
        break;
      }
      cur -= in_strides[k] * (pos[k] - 1);
      pos[k] = 0;
    }
  }
  return idx;
}

std::vector<double> AsDoubles(const Tensor& t) {
  int64_t n = t.num_elements();
  std::vector<double> v(n);
  switch (t.dtype()) {
    case DType::kF32: {
      const float* p = t.data<float>();
      for (int64_t i = 0; i < n; ++i) v[i] = p[i];
      break;
    }
    case DType::kF64:
      if (n) std::memcpy(v.data(), t.raw(), n * 8);
      break;
    default:
      for (int64_t i = 0; i < n; ++i) v[i] = t.GetDouble(i);
  }
  return v;
}

std::vector<int64_t> AsInts(const Tensor& t) {
  int64_t n = t.num_elements();
  std::vector<int64_t> v(n);
  switch (t.dtype()) {
    case DType::kI64:
    case DType::kU64:
      if (n) std::memcpy(v.data(), t.raw(), n * 8);
      break;
    default:
      for (int64_t i = 0; i < n; ++i) v[i] = t.GetInt(i);
  }
  return v;
}

namespace {
int64_t DoubleToInt(double v, DType t) {
  if (std::isnan(v)) return 0;
  if (t == DType::kU64 && v >= 9223372036854775808.0) {
    if (v >= 18446744073709551615.0) return -1;
    return static_cast<int64_t>(static_cast<uint64_t>(v));
  }
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(v);
}
}  // namespace

void StoreInt(Tensor& t, int64_t i, int64_t v) {
  uint8_t* p = t.mutable_raw();
  switch (t.dtype()) {
    case DType::kF32:
      reinterpret_cast<float*>(p)[i] = static_cast<float>(v);
      break;
    case DType::kF64:
      reinterpret_cast<double*>(p)[i] = static_cast<double>(v);
      break;
    case DType::kF16:
      reinterpret_cast<uint16_t*>(p)[i] = FloatToHalf(static_cast<float>(v));
      break;
    case DType::kBF16:
      reinterpret_cast<uint16_t*>(p)[i] =
          FloatToBFloat16(static_cast<float>(v));
      break;
    case DType::kI8:
    case DType::kU8:
      p[i] = static_cast<uint8_t>(v);
      break;
    case DType::kBool:
      p[i] = v != 0;
      break;
    case DType::kI16:
    case DType::kU16:
      reinterpret_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(v);
      break;
    case DType::kI32:
    case DType::kU32:
      reinterpret_cast<uint32_t*>(p)[i] = static_cast<uint32_t>(v);
      break;
    case DType::kI64:
    case DType::kU64:
      reinterpret_cast<int64_t*>(p)[i] = v;
      break;
  }
}

void StoreDouble(Tensor& t, int64_t i, double v) {
  uint8_t* p = t.mutable_raw();
  switch (t.dtype()) {
    case DType::kF32:
      reinterpret_cast<float*>(p)[i] = static_cast<float>(v);
      break;
    case DType::kF64:
      reinterpret_cast<double*>(p)[i] = v;
      break;
    case DType::kF16:
      reinterpret_cast<uint16_t*>(p)[i] = FloatToHalf(static_cast<float>(v));
      break;
    case DType::kBF16:
      reinterpret_cast<uint16_t*>(p)[i] =
          FloatToBFloat16(static_cast<float>(v));
      break;
    case DType::kBool:
      p[i] = v != 0;
      break;
    default:
      StoreInt(t, i, DoubleToInt(v, t.dtype()));
  }
}

Tensor FromDoubles(DType dtype, Dims dims, const std::vector<double>& v) {
  Tensor t = Tensor::Zeros(dtype, std::move(dims));
  int64_t n = t.num_elements();
  if (dtype == DType::kF32) {
    float* p = t.mutable_data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(v[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) StoreDouble(t, i, v[i]);
  }
  return t;
}

Tensor FromInts(DType dtype, Dims dims, const std::vector<int64_t>& v) {
  Tensor t = Tensor::Zeros(dtype, std::move(dims));
  int64_t n = t.num_elements();
  if (dtype == DType::kI64 || dtype == DType::kU64) {
    if (n) std::memcpy(t.mutable_raw(), v.data(), n * 8);
  } else {
    for (int64_t i = 0; i < n; ++i) StoreInt(t, i, v[i]);
  }
  return t;
}

absl::StatusOr<std::vector<int64_t>> IntList(const KernelContext& ctx, int i) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) return Error(ctx, "missing input ", i);
  if (!IsInteger(t->dtype())) {
    return Error(ctx, "input ", i, " must be an integer tensor, got ",
                 t->TypeString());
  }
  if (t->rank() > 1) {
    return Error(ctx, "input ", i, " must be 1-D, got ", t->TypeString());
  }
  return AsInts(*t);
}

bool IsUnsigned(DType t) {
  return t == DType::kU8 || t == DType::kU16 || t == DType::kU32 ||
         t == DType::kU64;
}

Tensor Clone(const Tensor& t) {
  Tensor c = Tensor::Zeros(t.dtype(), t.dims());
  if (t.byte_size()) std::memcpy(c.mutable_raw(), t.raw(), t.byte_size());
  return c;
}

}  // namespace qeff::ir::kernels
