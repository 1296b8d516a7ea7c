// Micro-benchmark of the Linear kernels on one stories110M-shaped layer
// (q, k, v, o 768x768; gate, up 2048x768; down 768x2048) for f32, f16, bf16,
// Q4_K, Q8_0 and Q4_0 weights at M = 128 (prefill) and M = 1 (decode): the best
// of
// --reps timings, in GFLOP/s (2 M N K per Linear). Noisy machines: compare
// numbers from one run. Then, for Q8_0 / Q4_0, the small-M kernel on the
// original blocks vs the repacked kernel over decode-range M (ms per layer).
// `stream [reps]`: only the decode-from-memory rows (RunStream).
// Run:
//   bazel run -c opt --config=native //hw/cpu:kernels_linear_bench -- [reps]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hw/cpu/linear_internal.h"
#include "ir/quant.h"

namespace qeff::hw::cpu::linear {
namespace {

struct Weight {
  std::vector<uint8_t> bytes;
  int64_t N, K, row_bytes, block = 0, block_bytes = 0;
};

Weight MakeWeight(ir::QuantFormat q, ir::DType dt, int64_t N, int64_t K,
                  std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  std::vector<float> wf(N * K);
  for (float& v : wf) v = u(rng);
  Weight w{{}, N, K, 0};
  if (q != ir::QuantFormat::kNone) {
    const ir::QuantBlockInfo qi = ir::QuantInfo(q);
    w.block = qi.block_values;
    w.block_bytes = qi.block_bytes;
    w.row_bytes = K / qi.block_values * qi.block_bytes;
    w.bytes.resize(N * w.row_bytes);
    for (int64_t b = 0; b < N * K / qi.block_values; ++b)
      if (!ir::QuantizeBlock(q, wf.data() + b * qi.block_values,
                             w.bytes.data() + b * qi.block_bytes)
               .ok())  // no quantizer (K-quants): random bytes time the same
        for (int64_t i = 0; i < qi.block_bytes; ++i)
          w.bytes[b * qi.block_bytes + i] = rng() & 255;
  } else if (dt == ir::DType::kF32) {
    w.row_bytes = K * 4;
    w.bytes.resize(N * K * 4);
    std::memcpy(w.bytes.data(), wf.data(), w.bytes.size());
  } else {
    w.row_bytes = K * 2;
    w.bytes.resize(N * K * 2);
    for (int64_t i = 0; i < N * K; ++i) {
      const uint16_t h = ir::FloatToHalf(wf[i]);
      std::memcpy(w.bytes.data() + 2 * i, &h, 2);
    }
  }
  return w;
}

// One stories110M layer: q, k, v, o [768, 768]; gate, up [2048, 768]; down
// [768, 2048] ([N, K]).
constexpr int64_t kLayerShapes[7][2] = {{768, 768}, {768, 768},  {768, 768},
                                        {768, 768}, {2048, 768}, {2048, 768},
                                        {768, 2048}};

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Run(const char* name, ir::QuantFormat q, ir::DType dt, int reps) {
  std::mt19937 rng(1);
  std::vector<Weight> ws;
  for (const auto& s : kLayerShapes)
    ws.push_back(MakeWeight(q, dt, s[0], s[1], rng));
  // Weights run packed, as the cpu compiler lays them out.
  const bool packed = q == ir::QuantFormat::kNone;
  const bool qpacked = !packed && QPackApplies(q, 768);
  if (qpacked) {
    for (Weight& w : ws) {
      auto rows = ir::Tensor::FromQuantized(
          q, ir::DType::kF32, {w.N, w.K},
          ir::Buffer::Copy(w.bytes.data(), w.bytes.size()));
      const ir::Tensor p = PackQuantPanels(*rows);
      w.bytes.assign(p.raw(), p.raw() + p.byte_size());
    }
  }
  if (packed) {
    for (Weight& w : ws) {
      ir::Tensor rows = ir::Tensor::Zeros(dt, {w.N, w.K});
      std::memcpy(rows.mutable_raw(), w.bytes.data(), w.bytes.size());
      const ir::Tensor p = PackPanels(rows);
      w.bytes.assign(p.raw(), p.raw() + p.byte_size());
    }
  }
  std::printf("%-6s", name);
  for (int64_t M : {128, 1}) {
    std::vector<float> x(M * 2048), y(M * 2048);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : x) v = u(rng);
    double flops = 0, best = 1e30;
    for (const Weight& w : ws) flops += 2.0 * M * w.N * w.K;
    for (int r = 0; r < reps; ++r) {
      const double t0 = Now();
      for (const Weight& w : ws) {
        LinearArgs a;
        a.dtype = dt;
        a.quant = q;
        a.block = w.block;
        a.block_bytes = w.block_bytes;
        a.w = w.bytes.data();
        a.row_bytes = w.row_bytes;
        a.x = x.data();
        a.M = M;
        a.K = w.K;
        a.y = y.data();
        a.N = w.N;
        if (packed)
          RunPackedLinear(dt, a.w, a.N, a.K, a.x, M, nullptr, a.y)
              .IgnoreError();
        else if (qpacked)
          RunPackedQLinear(q, a.w, a.N, a.K, a.x, M, nullptr, a.y)
              .IgnoreError();
        else if (QLinearApplies(a) && HasAvx512Vnni())
          LinearQ8Act(a, QPath::kVnni);
        else
          LinearFloatAvx512(a);
      }
      best = std::min(best, Now() - t0);
    }
    std::printf("  M=%-3lld %8.1f GFLOP/s %8.3f ms", static_cast<long long>(M),
                flops / best * 1e-9, best * 1e3);
  }
  std::printf("\n");
}

// Decode from memory: M = 1 over 16 layers of packed quantized weights
// (64-150 MB, past the last-level cache), layer after layer as a decode step
// reads them: GB/s of weight bytes (the best of --reps passes). The number
// to compare with the host's read bandwidth.
void RunStream(const char* name, ir::QuantFormat q, int reps) {
  std::mt19937 rng(3);
  std::vector<Weight> ws;
  double bytes = 0;
  for (int layer = 0; layer < 16; ++layer) {
    for (const auto& sh : kLayerShapes) {
      Weight w = MakeWeight(q, ir::DType::kF32, sh[0], sh[1], rng);
      auto rows = ir::Tensor::FromQuantized(
          q, ir::DType::kF32, {w.N, w.K},
          ir::Buffer::Copy(w.bytes.data(), w.bytes.size()));
      const ir::Tensor p = PackQuantPanels(*rows);
      w.bytes.assign(p.raw(), p.raw() + p.byte_size());
      bytes += static_cast<double>(w.bytes.size());
      ws.push_back(std::move(w));
    }
  }
  std::vector<float> x(2048), y(2048);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : x) v = u(rng);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = Now();
    for (const Weight& w : ws)
      RunPackedQLinear(q, w.bytes.data(), w.N, w.K, x.data(), 1, nullptr,
                       y.data())
          .IgnoreError();
    best = std::min(best, Now() - t0);
  }
  std::printf("%-6s stream M=1: %6.1f MB in %7.3f ms = %6.1f GB/s\n", name,
              bytes * 1e-6, best * 1e3, bytes / best * 1e-9);
}

// Decode-range M: the small-M kernel on the original blocks vs the repacked
// kernel (QPath::kVnni switches between them by M).
void RunQSweep(const char* name, ir::QuantFormat q, int reps) {
  std::mt19937 rng(1);
  std::vector<Weight> ws;
  for (const auto& s : kLayerShapes)
    ws.push_back(MakeWeight(q, ir::DType::kF32, s[0], s[1], rng));
  for (QPath path : {QPath::kVnniDirect, QPath::kVnniPacked}) {
    std::printf("%-6s %-6s", name,
                path == QPath::kVnniDirect ? "direct" : "packed");
    for (int64_t M : {1, 2, 3, 4, 6, 8, 16}) {
      std::vector<float> x(M * 2048), y(M * 2048);
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      for (float& v : x) v = u(rng);
      double best = 1e30;
      for (int r = 0; r < reps; ++r) {
        const double t0 = Now();
        for (const Weight& w : ws) {
          LinearArgs a;
          a.quant = q;
          a.block = w.block;
          a.block_bytes = w.block_bytes;
          a.w = w.bytes.data();
          a.row_bytes = w.row_bytes;
          a.x = x.data();
          a.M = M;
          a.K = w.K;
          a.y = y.data();
          a.N = w.N;
          LinearQ8Act(a, path);
        }
        best = std::min(best, Now() - t0);
      }
      std::printf("  M=%-2lld %7.3f ms", static_cast<long long>(M), best * 1e3);
    }
    std::printf("\n");
  }
}

}  // namespace
}  // namespace qeff::hw::cpu::linear

int main(int argc, char** argv) {
  using namespace qeff;
  if (argc > 1 && std::string(argv[1]) == "stream") {
    const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
    hw::cpu::linear::RunStream("q8_0", ir::QuantFormat::kQ8_0, reps);
    hw::cpu::linear::RunStream("q4_0", ir::QuantFormat::kQ4_0, reps);
    hw::cpu::linear::RunStream("q4_k", ir::QuantFormat::kQ4_K, reps);
    return 0;
  }
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  hw::cpu::linear::Run("f32", ir::QuantFormat::kNone, ir::DType::kF32, reps);
  hw::cpu::linear::Run("f16", ir::QuantFormat::kNone, ir::DType::kF16, reps);
  hw::cpu::linear::Run("bf16", ir::QuantFormat::kNone, ir::DType::kBF16, reps);
  hw::cpu::linear::Run("q4_k", ir::QuantFormat::kQ4_K, ir::DType::kF32, reps);
  hw::cpu::linear::Run("q8_0", ir::QuantFormat::kQ8_0, ir::DType::kF32, reps);
  hw::cpu::linear::Run("q4_0", ir::QuantFormat::kQ4_0, ir::DType::kF32, reps);
  if (hw::cpu::linear::HasAvx512Vnni()) {
    hw::cpu::linear::RunQSweep("q8_0", ir::QuantFormat::kQ8_0, reps);
    hw::cpu::linear::RunQSweep("q4_0", ir::QuantFormat::kQ4_0, reps);
    hw::cpu::linear::RunQSweep("q4_k", ir::QuantFormat::kQ4_K, reps);
  }
  return 0;
}
