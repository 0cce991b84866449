// What the CPU can do beyond baseline x86-64, asked once. The build targets
// baseline x86-64; hot loops are built again for these features and the
// caller picks a version (not with target_clones: its ifunc resolver runs
// before ThreadSanitizer's runtime is up and crashes TSan builds).
#pragma once

namespace caserepo::util {

inline bool has_popcnt() {
  static const bool yes = __builtin_cpu_supports("popcnt");
  return yes;
}

// AVX-512 with its vector popcount (VPOPCNTDQ).
inline bool has_avx512_popcount() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
  return yes;
}

}  // namespace caserepo::util
