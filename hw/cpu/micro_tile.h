// Run-time choice of a register-tiled micro-kernel instantiation (rows x
// panels known only at run time), shared by the Linear kernel files.
#ifndef QEFF_HW_CPU_MICRO_TILE_H_
#define QEFF_HW_CPU_MICRO_TILE_H_

#include <algorithm>
#include <array>
#include <utility>

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

}  // namespace qeff::hw::cpu::linear

#endif  // QEFF_HW_CPU_MICRO_TILE_H_
