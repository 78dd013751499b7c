#pragma once
// The run's one source of randomness (jitter, decorrelated backoff, splay).
// Seeded from --seed for reproducible runs. Draws are computed from the raw
// 64-bit output, so a seed gives the same delays with any standard library.
#include <cstdint>
#include <random>

namespace retryx {

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1), 53 bits of precision.
  double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [low, high]; low when high <= low.
  double uniform(double low, double high) { return high <= low ? low : low + (high - low) * uniform01(); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace retryx
