// Data-movement and indexing kernels (dtype-agnostic, by element size):
// Transpose, Concat, Split, Slice, Expand, Gather, GatherND, ArgMax, Range, and
// the cache custom ops of ir/custom_ops.h (CtxScatter/CtxGather and the CB
// forms; CtxScatter also in place on the state buffer).
#include <cstring>

#include "absl/strings/str_cat.h"
#include "hw/cpu/kernels.h"
#include "ir/quant.h"

namespace qeff::hw::cpu {
namespace {

using ir::DType;

size_t ES(const Arg& a) { return ir::DTypeSize(a.slot->dtype); }

std::vector<int64_t> Strides(const std::vector<int64_t>& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * d[i + 1];
  return s;
}

// Generic strided copy: out[idx] = in[sum(idx[d] * in_stride[d]) + base].
void StridedCopy(const uint8_t* in, uint8_t* out, size_t es,
                 const std::vector<int64_t>& out_dims,
                 const std::vector<int64_t>& in_strides, int64_t base) {
  const int r = static_cast<int>(out_dims.size());
  const int64_t n = ir::NumElements(out_dims);
  if (n == 0) return;
  if (r == 0) {
    std::memcpy(out, in + base * es, es);
    return;
  }
  std::vector<int64_t> idx(r, 0);
  const int64_t inner = out_dims[r - 1], ist = in_strides[r - 1];
  for (int64_t o = 0; o < n; o += inner) {
    int64_t off = base;
    for (int d = 0; d < r - 1; ++d) off += idx[d] * in_strides[d];
    if (ist == 1) {
      std::memcpy(out + o * es, in + off * es, inner * es);
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(out + (o + i) * es, in + (off + i * ist) * es, es);
    }
    for (int d = r - 2; d >= 0; --d) {
      if (++idx[d] < out_dims[d]) break;
      idx[d] = 0;
    }
  }
}

// ints: perm.
absl::Status Transpose(const KernelCtx& k) {
  const auto& perm = k.step.ints;
  std::vector<int64_t> is = Strides(k.in[0].dims()), st(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) st[i] = is[perm[i]];
  StridedCopy(k.in[0].data, k.out[0].data, ES(k.in[0]), k.out[0].dims(), st, 0);
  return absl::OkStatus();
}

// ints: per dim of the input, (start, step) pairs; output dims from the slot.
absl::Status Slice(const KernelCtx& k) {
  const auto& in = k.in[0].dims();
  std::vector<int64_t> is = Strides(in), st(in.size());
  int64_t base = 0;
  for (size_t d = 0; d < in.size(); ++d) {
    base += k.step.ints[2 * d] * is[d];
    st[d] = k.step.ints[2 * d + 1] * is[d];
  }
  StridedCopy(k.in[0].data, k.out[0].data, ES(k.in[0]), k.out[0].dims(), st,
              base);
  return absl::OkStatus();
}

// Expand: broadcast input to the output dims.
absl::Status Expand(const KernelCtx& k) {
  const auto& od = k.out[0].dims();
  const auto& id = k.in[0].dims();
  std::vector<int64_t> is = Strides(id), st(od.size(), 0);
  const int off = static_cast<int>(od.size() - id.size());
  for (size_t d = 0; d < id.size(); ++d) st[d + off] = id[d] == 1 ? 0 : is[d];
  StridedCopy(k.in[0].data, k.out[0].data, ES(k.in[0]), od, st, 0);
  return absl::OkStatus();
}

// ints: axis.
absl::Status Concat(const KernelCtx& k) {
  const int64_t axis = k.step.ints[0];
  const auto& od = k.out[0].dims();
  const size_t es = ES(k.out[0]);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= od[d];
  for (size_t d = axis + 1; d < od.size(); ++d) inner *= od[d];
  const int64_t orow = od[axis] * inner * es;
  int64_t col = 0;
  for (const Arg& a : k.in) {
    const int64_t row = a.dims()[axis] * inner * es;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(k.out[0].data + o * orow + col, a.data + o * row, row);
    col += row;
  }
  return absl::OkStatus();
}

// ints: axis. Each output takes the next out.dims()[axis] entries of the
// axis (sizes resolved at compile time).
absl::Status Split(const KernelCtx& k) {
  const int64_t axis = k.step.ints[0];
  const auto& xd = k.in[0].dims();
  const size_t es = ES(k.in[0]);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= xd[d];
  for (size_t d = axis + 1; d < xd.size(); ++d) inner *= xd[d];
  const int64_t irow = xd[axis] * inner * es;
  int64_t col = 0;
  for (const Arg& a : k.out) {
    const int64_t row = a.dims()[axis] * inner * es;
    if (col + row > irow) return KernelError(k, "split sizes exceed the axis");
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(a.data + o * row, k.in[0].data + o * irow + col, row);
    col += row;
  }
  return absl::OkStatus();
}

int64_t IndexAt(const Arg& a, int64_t i) {
  if (a.slot->dtype == DType::kI32) return a.in<int32_t>()[i];
  return a.in<int64_t>()[i];
}

// ints: axis.
absl::Status Gather(const KernelCtx& k) {
  const int64_t axis = k.step.ints[0];
  const auto& xd = k.in[0].dims();
  const size_t es = ES(k.in[0]);
  int64_t outer = 1, inner = 1;
  const int64_t dim = xd[axis];
  for (int64_t d = 0; d < axis; ++d) outer *= xd[d];
  for (size_t d = axis + 1; d < xd.size(); ++d) inner *= xd[d];
  const int64_t m = k.in[1].n();
  for (int64_t j = 0; j < m; ++j) {
    int64_t i = IndexAt(k.in[1], j);
    if (i < -dim || i >= dim)
      return KernelError(k, absl::StrCat("index ", i, " out of range [", -dim,
                                         ", ", dim, ")"));
  }
  if (k.in[0].slot->quant != ir::QuantFormat::kNone) {
    // Rows of a quantized table (embeddings): dequantized row by row.
    if (axis != 0 || xd.size() != 2 || k.out[0].slot->dtype != DType::kF32)
      return KernelError(
          k, "a quantized table gathers only rows (axis 0) into f32");
    const ir::QuantBlockInfo qi = ir::QuantInfo(k.in[0].slot->quant);
    const int64_t row_bytes = inner / qi.block_values * qi.block_bytes;
    for (int64_t j = 0; j < m; ++j) {
      int64_t i = IndexAt(k.in[1], j);
      if (i < 0) i += dim;
      float* o = k.out[0].out<float>() + j * inner;
      for (int64_t b = 0; b < inner / qi.block_values; ++b) {
        absl::Status st = ir::DequantizeBlock(
            k.in[0].slot->quant,
            k.in[0].data + i * row_bytes + b * qi.block_bytes,
            o + b * qi.block_values);
        if (!st.ok()) return KernelError(k, st.message());
      }
    }
    return absl::OkStatus();
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < m; ++j) {
      int64_t i = IndexAt(k.in[1], j);
      if (i < 0) i += dim;
      std::memcpy(k.out[0].data + ((o * m + j) * inner) * es,
                  k.in[0].data + ((o * dim + i) * inner) * es, inner * es);
    }
  }
  return absl::OkStatus();
}

// ints: batch_dims.
absl::Status GatherND(const KernelCtx& k) {
  const int64_t b = k.step.ints[0];
  const auto& xd = k.in[0].dims();
  const auto& id = k.in[1].dims();
  const int64_t kk = id.back();
  int64_t batch = 1;
  for (int64_t i = 0; i < b; ++i) batch *= xd[i];
  int64_t per_batch_idx = 1;
  for (size_t i = b; i + 1 < id.size(); ++i) per_batch_idx *= id[i];
  int64_t slice = 1;
  for (size_t i = b + kk; i < xd.size(); ++i) slice *= xd[i];
  int64_t xbatch = 1;
  for (size_t i = b; i < xd.size(); ++i) xbatch *= xd[i];
  std::vector<int64_t> xs =
      Strides(std::vector<int64_t>(xd.begin() + b, xd.end()));
  const size_t es = ES(k.in[0]);
  for (int64_t bb = 0; bb < batch; ++bb) {
    for (int64_t j = 0; j < per_batch_idx; ++j) {
      int64_t off = 0;
      for (int64_t t = 0; t < kk; ++t) {
        int64_t i = IndexAt(k.in[1], (bb * per_batch_idx + j) * kk + t);
        const int64_t dim = xd[b + t];
        if (i < -dim || i >= dim)
          return KernelError(
              k, absl::StrCat("index ", i, " out of range for dim ", dim));
        if (i < 0) i += dim;
        off += i * xs[t];
      }
      std::memcpy(k.out[0].data + ((bb * per_batch_idx + j) * slice) * es,
                  k.in[0].data + (bb * xbatch + off) * es, slice * es);
    }
  }
  return absl::OkStatus();
}

// ints: axis, select_last_index. Output int64.
absl::Status ArgMax(const KernelCtx& k) {
  const int64_t axis = k.step.ints[0];
  const bool last = k.step.ints[1] != 0;
  const auto& xd = k.in[0].dims();
  int64_t outer = 1, inner = 1;
  const int64_t dim = xd[axis];
  for (int64_t d = 0; d < axis; ++d) outer *= xd[d];
  for (size_t d = axis + 1; d < xd.size(); ++d) inner *= xd[d];
  const bool f = k.in[0].slot->dtype == DType::kF32;
  if (!f && k.in[0].slot->dtype != DType::kI64)
    return KernelError(k, "ArgMax supports f32 and i64");
  int64_t* o = k.out[0].out<int64_t>();
  for (int64_t a = 0; a < outer; ++a) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      double bv = 0;
      for (int64_t j = 0; j < dim; ++j) {
        const int64_t at = (a * dim + j) * inner + i;
        double v = f ? k.in[0].in<float>()[at]
                     : static_cast<double>(k.in[0].in<int64_t>()[at]);
        if (j == 0 || v > bv || (last && v == bv)) {
          bv = v;
          best = j;
        }
      }
      o[a * inner + i] = best;
    }
  }
  return absl::OkStatus();
}

// Range(start, limit, delta); output count from the slot.
absl::Status Range(const KernelCtx& k) {
  const int64_t n = k.out[0].n();
  const DType t = k.out[0].slot->dtype;
  if (t == DType::kI64) {
    int64_t s = k.in[0].in<int64_t>()[0], d = k.in[2].in<int64_t>()[0];
    for (int64_t i = 0; i < n; ++i) k.out[0].out<int64_t>()[i] = s + i * d;
  } else if (t == DType::kF32) {
    float s = k.in[0].in<float>()[0], d = k.in[2].in<float>()[0];
    for (int64_t i = 0; i < n; ++i) k.out[0].out<float>()[i] = s + i * d;
  } else if (t == DType::kI32) {
    int32_t s = k.in[0].in<int32_t>()[0], d = k.in[2].in<int32_t>()[0];
    for (int64_t i = 0; i < n; ++i) k.out[0].out<int32_t>()[i] = s + i * d;
  } else {
    return KernelError(k, "Range supports i64, i32, f32");
  }
  return absl::OkStatus();
}

// ---- cache custom ops (ir/custom_ops.h) ----

// Scatter body. cache [FB,H,C,D] in `out` (already holding the old cache),
// rows: the cache row of each batch entry (nullptr: b itself).
absl::Status ScatterInto(const KernelCtx& k, const Arg& out,
                         const Arg* batch_index, const Arg& pos,
                         const Arg& upd) {
  const auto& cd = out.dims();
  const int64_t fb = cd[0], h = cd[1], c = cd[2], d = cd[3];
  const int64_t b = upd.dims()[0], s = upd.dims()[2];
  const size_t es = ES(out);
  const int64_t pb = pos.dims()[0];
  for (int64_t bb = 0; bb < b; ++bb) {
    int64_t row = bb;
    for (int64_t ss = 0; ss < s; ++ss) {
      const int64_t p = IndexAt(pos, (pb == 1 ? 0 : bb) * s + ss);
      if (p < 0) continue;
      if (p >= c)
        return KernelError(k, absl::StrCat("position ", p, " >= ctx_len ", c));
      if (batch_index) {
        row = IndexAt(*batch_index, bb);
        if (row < 0 || row >= fb)
          return KernelError(k, absl::StrCat("batch_index ", row,
                                             " out of range [0, ", fb, ")"));
      }
      for (int64_t hh = 0; hh < h; ++hh) {
        std::memcpy(out.data + (((row * h + hh) * c + p) * d) * es,
                    upd.data + (((bb * h + hh) * s + ss) * d) * es, d * es);
      }
    }
  }
  return absl::OkStatus();
}

void CopyIfDistinct(const Arg& from, const Arg& to) {
  if (from.data != to.data)
    std::memcpy(to.data, from.data, from.n() * ES(from));
}

absl::Status CtxScatter(const KernelCtx& k) {
  CopyIfDistinct(k.in[0], k.out[0]);
  return ScatterInto(k, k.out[0], nullptr, k.in[1], k.in[2]);
}

absl::Status CtxScatterCB(const KernelCtx& k) {
  CopyIfDistinct(k.in[0], k.out[0]);
  return ScatterInto(k, k.out[0], &k.in[1], k.in[2], k.in[3]);
}

absl::Status GatherBody(const KernelCtx& k, const Arg& cache,
                        const Arg* batch_index, const Arg& idx) {
  const auto& cd = cache.dims();
  const int64_t fb = cd[0], h = cd[1], c = cd[2], d = cd[3];
  const auto& od = k.out[0].dims();
  const int64_t b = od[0], cc = od[2];
  const size_t es = ES(cache);
  const bool per_row = idx.dims().size() == 2 && idx.dims()[0] != 1;
  for (int64_t bb = 0; bb < b; ++bb) {
    int64_t row = bb;
    if (batch_index) {
      row = IndexAt(*batch_index, bb);
      if (row < 0 || row >= fb)
        return KernelError(k, absl::StrCat("batch_index ", row,
                                           " out of range [0, ", fb, ")"));
    }
    for (int64_t i = 0; i < cc; ++i) {
      const int64_t p = IndexAt(idx, (per_row ? bb * cc : 0) + i);
      if (p < 0 || p >= c)
        return KernelError(
            k, absl::StrCat("ctx index ", p, " out of range [0, ", c, ")"));
      for (int64_t hh = 0; hh < h; ++hh)
        std::memcpy(k.out[0].data + (((bb * h + hh) * cc + i) * d) * es,
                    cache.data + (((row * h + hh) * c + p) * d) * es, d * es);
    }
  }
  return absl::OkStatus();
}

absl::Status CtxGather(const KernelCtx& k) {
  return GatherBody(k, k.in[0], nullptr, k.in[1]);
}
absl::Status CtxGatherCB(const KernelCtx& k) {
  return GatherBody(k, k.in[0], &k.in[1], k.in[2]);
}

}  // namespace

void RegisterDataKernels() {
  RegisterKernel("Transpose", Transpose);
  RegisterKernel("Slice", Slice);
  RegisterKernel("Expand", Expand);
  RegisterKernel("Concat", Concat);
  RegisterKernel("Split", Split);
  RegisterKernel("Gather", Gather);
  RegisterKernel("GatherND", GatherND);
  RegisterKernel("ArgMax", ArgMax);
  RegisterKernel("Range", Range);
  RegisterKernel("CtxScatter", CtxScatter);
  RegisterKernel("CtxScatterCB", CtxScatterCB);
  RegisterKernel("CtxGather", CtxGather);
  RegisterKernel("CtxGatherCB", CtxGatherCB);
}

}  // namespace qeff::hw::cpu
