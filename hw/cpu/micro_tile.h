// Register tiles of the Linear micro-kernels, shared by the Linear kernel
// files: the run-time choice of an instantiation (rows x panels known only
// at run time), and a tile's accumulators loaded from / stored to memory.
#ifndef QEFF_HW_CPU_MICRO_TILE_H_
#define QEFF_HW_CPU_MICRO_TILE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "hw/cpu/linear_internal.h"  // QEFF_UNROLL

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qeff::hw::cpu::linear {
namespace tile_detail {
template <typename K, int NI, int... P>
constexpr auto Row(std::integer_sequence<int, P...>) {
  return std::array{K::template fn<NI, P + 1>...};
}
template <typename K, int kMaxNP, int... I>
constexpr auto Table(std::integer_sequence<int, I...>) {
  return std::array{
      Row<K, I + 1>(std::make_integer_sequence<int, kMaxNP>())...};
}
}  // namespace tile_detail

// K::fn<NI, NP>: the kernel for NI rows x NP panels (a function pointer
// constant). Returns it for NI = clamp(ni, 1, kMaxNI), NP = clamp(np, 1,
// kMaxNP).
template <typename K, int kMaxNI, int kMaxNP>
auto PickTile(int ni, int np) {
  static constexpr auto kTable =
      tile_detail::Table<K, kMaxNP>(std::make_integer_sequence<int, kMaxNI>());
  return kTable[std::clamp(ni, 1, kMaxNI) - 1][std::clamp(np, 1, kMaxNP) - 1];
}

#if defined(__x86_64__)
// acc[i][p] <-> the 16 floats at c + i * ldc + 16 p (inlined into the
// AVX-512 micro-kernels, whose targets include avx512f).
template <int NI, int NP>
__attribute__((target("avx512f"), always_inline)) inline void LoadTile(
    __m512 (&acc)[NI][NP], const float* c, int64_t ldc) {
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) {
    QEFF_UNROLL
    for (int p = 0; p < NP; ++p)
      acc[i][p] = _mm512_loadu_ps(c + i * ldc + p * 16);
  }
}
template <int NI, int NP>
__attribute__((target("avx512f"), always_inline)) inline void StoreTile(
    const __m512 (&acc)[NI][NP], float* c, int64_t ldc) {
  QEFF_UNROLL
  for (int i = 0; i < NI; ++i) {
    QEFF_UNROLL
    for (int p = 0; p < NP; ++p)
      _mm512_storeu_ps(c + i * ldc + p * 16, acc[i][p]);
  }
}
#endif

}  // namespace qeff::hw::cpu::linear

#endif  // QEFF_HW_CPU_MICRO_TILE_H_
