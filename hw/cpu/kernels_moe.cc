#include "hw/cpu/kernels_moe.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "hw/cpu/kernels.h"
#include "hw/cpu/linear_internal.h"
#include "ir/quant.h"

namespace qeff::hw::cpu {
namespace {

std::atomic<int64_t> g_expert_calls{0};
std::atomic<bool> g_all_experts{false};

// Bytes of one [rows, cols] expert matrix of a weight slot.
int64_t MatrixBytes(const Slot& s, int64_t rows, int64_t cols) {
  if (s.quant != ir::QuantFormat::kNone) {
    const ir::QuantBlockInfo qi = ir::QuantInfo(s.quant);
    return rows * (cols / qi.block_values) * qi.block_bytes;
  }
  return rows * cols * ir::DTypeSize(s.dtype);
}

absl::Status MoE(const KernelCtx& k) {
  if (k.in.size() != 5 || k.step.ints.size() != 6)
    return KernelError(k, "expects 5 inputs and 6 parameters");
  const Arg& x = k.in[0];
  const Arg& logits = k.in[1];
  const Arg& gate = k.in[2];
  const Arg& up = k.in[3];
  const Arg& down = k.in[4];
  if (gate.dims().size() != 3 || up.dims() != gate.dims() ||
      down.dims().size() != 3)
    return KernelError(k, "expert weights must be [E, F, H] and [E, H, F]");
  const int64_t E = gate.dims()[0], F = gate.dims()[1], H = gate.dims()[2];
  if (down.dims() != std::vector<int64_t>{E, H, F} || x.dims().back() != H)
    return KernelError(k, "x / down do not match gate");
  if (gate.slot->dtype != up.slot->dtype || gate.slot->quant != up.slot->quant)
    return KernelError(k, "gate and up weights differ in type");
  const int64_t T = H ? x.n() / H : 0;
  if (logits.n() != T * E) return KernelError(k, "router_logits do not match");
  const int64_t top_k = k.step.ints[0];
  const bool sigmoid = k.step.ints[1] == 1, norm = k.step.ints[2] != 0,
             on_input = k.step.ints[3] != 0;
  const int64_t act = k.step.ints[4];
  // packed: every expert matrix in PackPanels' (float) or
  // PackQuantPanels' (Q8_0 / Q4_0 / Q4_K) layout (fusion.cc), which hold
  // the stored bytes only for whole 16-row panels of a K they pack.
  const bool packed = k.step.ints[5] != 0;
  auto packable = [](const Slot& s, int64_t K) {
    return s.quant != ir::QuantFormat::kNone ? linear::QPackApplies(s.quant, K)
                                             : linear::PackedK(s.dtype, K) == K;
  };
  if (packed && (F % 16 != 0 || H % 16 != 0 || !packable(*gate.slot, H) ||
                 !packable(*down.slot, F)))
    return KernelError(k,
                       "packed_experts needs expert matrices of whole 16-row "
                       "panels in a format the packed kernels read");
  auto linear = [&](const Slot& s, const uint8_t* w, int64_t N, int64_t K,
                    const float* xin, int64_t M, float* yout) {
    if (!packed)
      return linear::RunLinear(s.dtype, s.quant, w, N, K, xin, M, nullptr,
                               yout);
    return s.quant != ir::QuantFormat::kNone
               ? linear::RunPackedQLinear(s.quant, w, N, K, xin, M, nullptr,
                                          yout)
               : linear::RunPackedLinear(s.dtype, w, N, K, xin, M, nullptr,
                                         yout);
  };
  if (top_k < 1 || top_k > E || k.step.ints[1] < 0 || k.step.ints[1] > 1 ||
      act < 0 || act > 2)
    return KernelError(k, absl::StrCat("bad parameters (top_k ", top_k, ")"));
  const float* px = x.in<float>();
  const float* pl = logits.in<float>();
  float* py = k.out[0].out<float>();

  // Routing: sel[t * k + j] and its weight.
  std::vector<int64_t> sel(T * top_k);
  std::vector<float> wsel(T * top_k);
  std::vector<int64_t> order(E);
  std::vector<double> s(E);
  for (int64_t t = 0; t < T; ++t) {
    const float* l = pl + t * E;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return l[a] > l[b]; });
    if (!sigmoid) {
      const double mx = l[order[0]];
      double sum = 0;
      for (int64_t e = 0; e < E; ++e) sum += s[e] = std::exp(l[e] - mx);
      for (double& v : s) v /= sum;
    } else {
      for (int64_t e = 0; e < E; ++e) s[e] = 1.0 / (1.0 + std::exp(-l[e]));
    }
    double tot = 0;
    for (int64_t j = 0; j < top_k; ++j) tot += s[order[j]];
    for (int64_t j = 0; j < top_k; ++j) {
      sel[t * top_k + j] = order[j];
      wsel[t * top_k + j] =
          static_cast<float>(norm ? s[order[j]] / tot : s[order[j]]);
    }
  }

  // Per expert: its (t, j) entries; run gate/up/down on those rows only.
  std::vector<float> part(T * top_k * H);
  const int64_t gate_bytes = MatrixBytes(*gate.slot, F, H);
  const int64_t down_bytes = MatrixBytes(*down.slot, H, F);
  const bool all = g_all_experts.load(std::memory_order_relaxed);
  std::vector<float> xe, ge, ue, de;
  for (int64_t e = 0; e < E; ++e) {
    std::vector<int64_t> entries;
    for (int64_t i = 0; i < T * top_k; ++i)
      if (sel[i] == e) entries.push_back(i);
    if (entries.empty() && !all) continue;
    // all-experts mode: every row through this expert; only the selected
    // entries are kept.
    const int64_t n = all ? T : static_cast<int64_t>(entries.size());
    xe.assign(n * H, 0.0f);
    for (int64_t r = 0; r < n; ++r) {
      const int64_t t = all ? r : entries[r] / top_k;
      float w = 1.0f;
      if (on_input) {
        w = 0.0f;
        for (int64_t j = 0; j < top_k; ++j)
          if (sel[t * top_k + j] == e) w = wsel[t * top_k + j];
      }
      for (int64_t h = 0; h < H; ++h)
        xe[r * H + h] = on_input ? w * px[t * H + h] : px[t * H + h];
    }
    ge.resize(n * F);
    ue.resize(n * F);
    de.resize(n * H);
    absl::Status st = linear(*gate.slot, gate.data + e * gate_bytes, F, H,
                             xe.data(), n, ge.data());
    if (st.ok())
      st = linear(*up.slot, up.data + e * gate_bytes, F, H, xe.data(), n,
                  ue.data());
    if (!st.ok()) return KernelError(k, st.message());
    // activation (ir/custom_ops.h): 0 SiLU, 1 GELU (erf), 2 GELU (tanh).
    if (act == 1) {
      for (int64_t i = 0; i < n * F; ++i) {
        const float g = ge[i];
        ge[i] = 0.5f * g *
                (1.0f + std::erf(g * static_cast<float>(M_SQRT1_2))) * ue[i];
      }
    } else if (act == 2) {
      const float c = static_cast<float>(std::sqrt(2.0 / M_PI));
      for (int64_t i = 0; i < n * F; ++i) {
        const float g = ge[i];
        ge[i] = 0.5f * g * (1.0f + std::tanh(c * (g + 0.044715f * g * g * g))) *
                ue[i];
      }
    } else {
      for (int64_t i = 0; i < n * F; ++i) {
        const float g = ge[i];
        ge[i] = g / (1.0f + std::exp(-g)) * ue[i];
      }
    }
    st = linear(*down.slot, down.data + e * down_bytes, H, F, ge.data(), n,
                de.data());
    if (!st.ok()) return KernelError(k, st.message());
    if (!all) g_expert_calls.fetch_add(1, std::memory_order_relaxed);
    for (size_t r = 0; r < entries.size(); ++r) {
      const int64_t i = entries[r];
      const int64_t src = all ? i / top_k : static_cast<int64_t>(r);
      std::copy(de.begin() + src * H, de.begin() + (src + 1) * H,
                part.begin() + i * H);
    }
  }
  // y[t] = sum_j w_j * part[t, j] in top-k order (w_j applied to the input
  // instead with score_on_input).
  for (int64_t t = 0; t < T; ++t) {
    float* yr = py + t * H;
    std::fill(yr, yr + H, 0.0f);
    for (int64_t j = 0; j < top_k; ++j) {
      const float w = on_input ? 1.0f : wsel[t * top_k + j];
      const float* pr = part.data() + (t * top_k + j) * H;
      for (int64_t h = 0; h < H; ++h) yr[h] += w * pr[h];
    }
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterMoEKernels() { RegisterKernel("MoE", MoE); }

int64_t MoEExpertCalls() {
  return g_expert_calls.load(std::memory_order_relaxed);
}

void SetMoEAllExpertsForBenchmark(bool on) {
  g_all_experts.store(on, std::memory_order_relaxed);
}

}  // namespace qeff::hw::cpu
