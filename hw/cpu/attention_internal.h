// The attention step shared by the cpu driver's cache layouts (f32 in
// kernels_linear.cc, MXINT8 in kv_mxint8.cc): operands q [B,H,S,D], k and v
// caches with logical dims [Bc,Hkv,C,D], mask bool [Bm,Hm,S,C] (true =
// masked; Bm, Hm may be 1), optional batch_index [B,1]; floats: scale,
// masked score and, optionally, a logit soft-cap and its reciprocal (cap 0:
// none; else score = cap * tanh(score * (1 / cap)) before the mask). GQA: head
// h reads kv head h / (H / Hkv) — the repeat is never materialized. Per (b, h,
// s) row, on one thread in a fixed order (batch-invariant): score_c =
// key_dot(q_row, slot_c) * scale, or the masked score; softmax (its sum in
// double: SumAsDouble's order when every slot below the last live one is
// live, else ascending); context = sum_c
// p_c v_c in ascending c, with exp the driver's ExpF (vec_math.h). Slots whose
// score is the masked score contribute exp(masked - max), which underflows to
// exactly 0 when an unmasked slot scores far above it, so they are skipped
// then. Only how a cached row is read differs by layout:
//   key_dots(const float* q_row, const char* live, int64_t n, int64_t slot0,
//            float* s, float* scratch): s[c] = q_row . k(slot0 + c) for the
//            live c < n
//   add_values(const float* p, const char* live, int64_t n, int64_t slot0,
//              float* acc, float* scratch): acc (D zeros) += p[c] v(slot0 +
//              c) for the live c < n, ascending
// where slots index the rows of [Bc*Hkv*C] and scratch holds D floats.
#ifndef QEFF_HW_CPU_ATTENTION_INTERNAL_H_
#define QEFF_HW_CPU_ATTENTION_INTERNAL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/vec_math.h"
#include "oneapi/tbb/task_arena.h"

namespace qeff::hw::cpu {

template <typename KeyDots, typename AddValues>
absl::Status AttendOverCache(const KernelCtx& k, KeyDots key_dots,
                             AddValues add_values) {
  const auto& qd = k.in[0].dims();
  const auto& kd = k.in[1].dims();
  const auto& md = k.in[3].dims();
  const int64_t B = qd[0], H = qd[1], S = qd[2], D = qd[3];
  const int64_t Bc = kd[0], Hkv = kd[1], C = kd[2];
  if (kd[3] != D || H % Hkv || md.size() != 4 || md[2] != S || md[3] != C ||
      k.in[2].dims() != kd)
    return KernelError(k, "attention operand shapes do not agree");
  const int64_t rep = H / Hkv;
  const float scale = k.step.floats[0], masked = k.step.floats[1];
  const float cap = k.step.floats.size() >= 4 ? k.step.floats[2] : 0.0f;
  const float inv_cap = k.step.floats.size() >= 4 ? k.step.floats[3] : 0.0f;
  const float* q = k.in[0].in<float>();
  const bool* mask = k.in[3].in<bool>();
  const Arg* bi = k.in.size() > 4 && k.in[4].data ? &k.in[4] : nullptr;
  std::vector<int64_t> rows(B);
  for (int64_t b = 0; b < B; ++b) {
    rows[b] = !bi                                  ? b
              : bi->slot->dtype == ir::DType::kI32 ? bi->in<int32_t>()[b]
                                                   : bi->in<int64_t>()[b];
    if (rows[b] < 0 || rows[b] >= Bc)
      return KernelError(k, absl::StrCat("cache row ", rows[b],
                                         " out of range [0, ", Bc, ")"));
  }
  float* out = k.out[0].out<float>();
  // Chunks of several rows (about 4 per core): per-chunk buffers and task
  // overhead amortized; each row is still computed alone.
  const int64_t rows_total = B * H * S;
  const int64_t conc = std::max(1, tbb::this_task_arena::max_concurrency());
  const int64_t grain =
      std::max<int64_t>(1, std::min<int64_t>(32, rows_total / (4 * conc)));
  ParallelFor(rows_total, grain, [&](int64_t r0, int64_t r1) {
    std::vector<float> sc(C), acc(D), scratch(D);
    std::vector<char> live(C);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t s = r % S, h = (r / S) % H, b = r / (S * H);
      const float* qr = q + r * D;
      const int64_t kvrow = (rows[b] * Hkv + h / rep) * C;
      const bool* mr =
          mask +
          (((md[0] == 1 ? 0 : b) * md[1] + (md[1] == 1 ? 0 : h)) * S + s) * C;
      float mx = -INFINITY;
      // span: past the last unmasked slot (8 slots at a time from the end).
      for (int64_t c = 0; c < C; ++c) live[c] = !mr[c];
      int64_t span = C;
      for (uint64_t w8; span >= 8; span -= 8) {
        std::memcpy(&w8, live.data() + span - 8, 8);
        if (w8) break;
      }
      while (span > 0 && !live[span - 1]) --span;
      int64_t nlive = 0;
      for (int64_t c = 0; c < span; ++c) nlive += live[c];
      // Scores exist only below span (decode at depth d reads d + 1 slots of
      // a longer cache, not all C).
      key_dots(qr, live.data(), span, kvrow, sc.data(), scratch.data());
      // dense: every slot below span is live (causal rows without holes).
      const bool dense = nlive == span;
      if (dense && cap <= 0) {
        mx = ScaleAndMax(sc.data(), span, scale);
      } else {
        for (int64_t c = 0; c < span; ++c) {
          if (!live[c]) continue;
          sc[c] *= scale;
          if (cap > 0) sc[c] = std::tanh(sc[c] * inv_cap) * cap;
          mx = std::max(mx, sc[c]);
        }
      }
      const bool skip_masked = nlive > 0 && mx - masked > 200.0f;
      if (!skip_masked) {
        for (int64_t c = 0; c < C; ++c) {
          if (!live[c]) sc[c] = masked;
          mx = c == 0 ? sc[c] : std::max(mx, sc[c]);
          live[c] = 1;
        }
      }
      const int64_t end = skip_masked ? span : C;  // past the last live slot
      ExpShifted(sc.data(), end, mx);  // dead slots' values are not read
      std::fill(acc.begin(), acc.end(), 0.0f);
      if (dense || !skip_masked) {  // every slot below end is live
        DivideBy(sc.data(), end, SumAsDouble(sc.data(), end));
      } else {
        double sum = 0;
        for (int64_t c = 0; c < end; ++c)
          if (live[c]) sum += sc[c];
        for (int64_t c = 0; c < end; ++c)
          if (live[c]) sc[c] = static_cast<float>(sc[c] / sum);
      }
      add_values(sc.data(), live.data(), end, kvrow, acc.data(),
                 scratch.data());
      std::memcpy(out + r * D, acc.data(), D * sizeof(float));
    }
  });
  return absl::OkStatus();
}

}  // namespace qeff::hw::cpu

#endif  // QEFF_HW_CPU_ATTENTION_INTERNAL_H_
