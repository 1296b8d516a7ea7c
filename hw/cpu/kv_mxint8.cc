#include "hw/cpu/kv_mxint8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "hw/cpu/attention_internal.h"
#include "hw/cpu/kernels.h"
#include "ir/quant.h"

namespace qeff::hw::cpu {
namespace {

constexpr int64_t kBlock = 32;
constexpr int64_t kBlockBytes = 33;
constexpr int64_t kAlign = 64;

int64_t Index(const Arg& a, int64_t i) {
  if (a.slot->dtype == ir::DType::kI32) return a.in<int32_t>()[i];
  return a.in<int64_t>()[i];
}

// ---- kernels ----

// Writes upd [B,H,S,D] rows at positions pos (-1: skipped) into the
// quantized cache `cache` (logical [FB,H,C,D]); rows by batch_index or b.
absl::Status ScatterMx(const KernelCtx& k, const Arg& cache,
                       const Arg* batch_index, const Arg& pos, const Arg& upd) {
  const auto& cd = cache.dims();
  const int64_t fb = cd[0], h = cd[1], c = cd[2], d = cd[3];
  const int64_t b = upd.dims()[0], s = upd.dims()[2];
  const int64_t pb = pos.dims()[0], rb = MxKvRowBytes(d);
  const float* u = upd.in<float>();
  for (int64_t bb = 0; bb < b; ++bb) {
    int64_t row = bb;
    if (batch_index) {
      row = Index(*batch_index, bb);
      if (row < 0 || row >= fb)
        return KernelError(k, absl::StrCat("batch_index ", row,
                                           " out of range [0, ", fb, ")"));
    } else if (row >= fb) {
      return KernelError(
          k, absl::StrCat("batch row ", row, " out of range [0, ", fb, ")"));
    }
    for (int64_t ss = 0; ss < s; ++ss) {
      const int64_t p = Index(pos, (pb == 1 ? 0 : bb) * s + ss);
      if (p < 0) continue;
      if (p >= c)
        return KernelError(k, absl::StrCat("position ", p, " >= ctx_len ", c));
      for (int64_t hh = 0; hh < h; ++hh)
        MxKvQuantizeRow(u + ((bb * h + hh) * s + ss) * d, d,
                        cache.data + ((row * h + hh) * c + p) * rb);
    }
  }
  return absl::OkStatus();
}

// CtxScatterMx(cache, pos, upd) -> cache, in place.
absl::Status CtxScatterMx(const KernelCtx& k) {
  if (k.in[0].data != k.out[0].data)
    return KernelError(k, "mxint8 cache scatter must be in place");
  return ScatterMx(k, k.out[0], nullptr, k.in[1], k.in[2]);
}

// CtxScatterCBMx(cache, batch_index, pos, upd) -> cache, in place.
absl::Status CtxScatterCBMx(const KernelCtx& k) {
  if (k.in[0].data != k.out[0].data)
    return KernelError(k, "mxint8 cache scatter must be in place");
  return ScatterMx(k, k.out[0], &k.in[1], k.in[2], k.in[3]);
}

// MxDequantize(state) -> f32 [B,H,C,D].
absl::Status MxDequantize(const KernelCtx& k) {
  const auto& dd = k.in[0].dims();
  const int64_t d = dd[3], rows = dd[0] * dd[1] * dd[2], rb = MxKvRowBytes(d);
  float* out = k.out[0].out<float>();
  ParallelFor(rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      MxKvDequantizeRow(k.in[0].data + r * rb, d, out + r * d);
  });
  return absl::OkStatus();
}

// MxQuantize(f32 [B,H,C,D]) -> state.
absl::Status MxQuantize(const KernelCtx& k) {
  const auto& dd = k.out[0].dims();
  const int64_t d = dd[3], rows = dd[0] * dd[1] * dd[2], rb = MxKvRowBytes(d);
  const float* in = k.in[0].in<float>();
  ParallelFor(rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      MxKvQuantizeRow(in + r * d, d, k.out[0].data + r * rb);
  });
  return absl::OkStatus();
}

float DotF(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  for (; i < n; ++i) acc[i % 8] += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
         ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// AttentionMx: Attention (attention_internal.h) with k and v the MXINT8
// cache states (logical [Bc,Hkv,C,D]); each cached row is dequantized
// inside the kernel.
absl::Status AttentionMx(const KernelCtx& k) {
  const int64_t D = k.in[0].dims()[3], rb = MxKvRowBytes(D);
  const uint8_t* kc = k.in[1].data;
  const uint8_t* vc = k.in[2].data;
  return AttendOverCache(
      k,
      [&](const float* qr, const char* live, int64_t n, int64_t slot0,
          float* sc, float* row) {
        for (int64_t c = 0; c < n; ++c) {
          if (!live[c]) continue;
          MxKvDequantizeRow(kc + (slot0 + c) * rb, D, row);
          sc[c] = DotF(qr, row, D);
        }
      },
      [&](const float* p, const char* live, int64_t n, int64_t slot0,
          float* acc, float* row) {
        for (int64_t c = 0; c < n; ++c) {
          if (!live[c]) continue;
          MxKvDequantizeRow(vc + (slot0 + c) * rb, D, row);
          for (int64_t j = 0; j < D; ++j) acc[j] += p[c] * row[j];
        }
      });
}

bool IsState(const SpecPlan& plan, int slot) {
  return slot >= 0 && plan.slots[slot].kind == SlotKind::kState;
}

}  // namespace

int64_t MxKvRowBytes(int64_t head_dim) {
  return (head_dim + kBlock - 1) / kBlock * kBlockBytes;
}

std::vector<int64_t> MxKvStorageDims(const std::vector<int64_t>& dims) {
  if (dims.size() != 4) return dims;
  return {dims[0], dims[1], dims[2], MxKvRowBytes(dims[3])};
}

void MxKvQuantizeRow(const float* x, int64_t d, uint8_t* row) {
  float tmp[kBlock];
  for (int64_t b0 = 0; b0 < d; b0 += kBlock) {
    const int64_t n = std::min(kBlock, d - b0);
    std::fill(tmp, tmp + kBlock, 0.0f);
    std::memcpy(tmp, x + b0, n * sizeof(float));
    // Cannot fail for kMXINT8.
    (void)ir::QuantizeBlock(ir::QuantFormat::kMXINT8, tmp,
                            row + b0 / kBlock * kBlockBytes);
  }
}

void MxKvDequantizeRow(const uint8_t* row, int64_t d, float* x) {
  for (int64_t b0 = 0; b0 < d; b0 += kBlock) {
    const uint8_t* blk = row + b0 / kBlock * kBlockBytes;
    // x = 2^(e - 127) * q * 2^-6, exact in f32 (a power of two times q).
    const float s = ir::E8M0ToFloat(blk[0]) * (1.0f / 64.0f);
    const int64_t n = std::min(kBlock, d - b0);
    const int8_t* q = reinterpret_cast<const int8_t*>(blk + 1);
    for (int64_t j = 0; j < n; ++j) x[b0 + j] = s * static_cast<float>(q[j]);
  }
}

absl::Status CheckMxInt8KvState(const CpuProgram& p) {
  for (const BoundIO& s : p.io.state) {
    if (s.dtype != ir::DType::kF32 || s.dims.size() != 4) {
      return absl::UnimplementedError(absl::StrCat(
          "cpu driver: mxint8_kv_cache: retained state '", s.name, "' is ",
          ir::DTypeName(s.dtype), " of rank ", s.dims.size(),
          "; only f32 caches [batch, kv_heads, ctx_len, head_dim] can be "
          "stored as MXINT8"));
    }
  }
  return absl::OkStatus();
}

absl::Status RewritePlanForMxInt8Kv(const Specialization& spec,
                                    SpecPlan& plan) {
  for (Slot& s : plan.slots)
    if (s.kind == SlotKind::kState) s.quant = ir::QuantFormat::kMXINT8;
  std::vector<Step> steps;
  auto new_arena_slot = [&](const Slot& like) {
    const int64_t bytes =
        (like.num_elements() * 4 + kAlign - 1) / kAlign * kAlign;
    plan.buffer_offsets.push_back(plan.arena_bytes);
    plan.arena_bytes += bytes;
    Slot s;
    s.kind = SlotKind::kArena;
    s.index = static_cast<int32_t>(plan.buffer_offsets.size()) - 1;
    s.dtype = ir::DType::kF32;
    s.dims = like.dims;
    plan.slots.push_back(std::move(s));
    return static_cast<int>(plan.slots.size()) - 1;
  };
  for (Step& st : plan.steps) {
    const bool in_place_scatter =
        (st.op == "CtxScatter" || st.op == "CtxScatterCB") &&
        IsState(plan, st.inputs[0]) && st.outputs.size() == 1 &&
        st.outputs[0] == st.inputs[0];
    if (in_place_scatter) {
      st.op += "Mx";
      steps.push_back(std::move(st));
      continue;
    }
    if (st.op == "Attention" && IsState(plan, st.inputs[1]) &&
        IsState(plan, st.inputs[2])) {
      st.op = "AttentionMx";
      steps.push_back(std::move(st));
      continue;
    }
    // Any other reader of a state sees its dequantized copy.
    for (int& in : st.inputs) {
      if (!IsState(plan, in)) continue;
      Step dq;
      dq.op = "MxDequantize";
      dq.label = st.label;
      dq.inputs = {in};
      dq.outputs = {new_arena_slot(plan.slots[in])};
      in = dq.outputs[0];
      steps.push_back(std::move(dq));
    }
    if (st.op == "Copy" && st.outputs.size() == 1 &&
        IsState(plan, st.outputs[0])) {
      st.op = "MxQuantize";
      steps.push_back(std::move(st));
      continue;
    }
    for (int out : st.outputs) {
      if (IsState(plan, out))
        return absl::UnimplementedError(absl::StrCat(
            "cpu compiler: specialization '", spec.name, "': ", st.label,
            ": mxint8_kv_cache cannot write a retained state from '", st.op,
            "'"));
    }
    steps.push_back(std::move(st));
  }
  plan.steps = std::move(steps);
  return absl::OkStatus();
}

void RegisterKvMxInt8Kernels() {
  RegisterKernel("CtxScatterMx", CtxScatterMx);
  RegisterKernel("CtxScatterCBMx", CtxScatterCBMx);
  RegisterKernel("AttentionMx", AttentionMx);
  RegisterKernel("MxDequantize", MxDequantize);
  RegisterKernel("MxQuantize", MxQuantize);
}

}  // namespace qeff::hw::cpu
