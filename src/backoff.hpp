#pragma once
// The delay before each retry (spec §2). Retry k = 1 follows attempt 1.
//   fixed d · linear d·k · exponential d·X^(k-1) · fibonacci d·F(k) ·
//   decorrelated s_k = uniform(d, 3·s_(k-1)), s_0 = d · --delays: list[k-1],
//   the last repeating.
// The nominal delay is capped at max_delay, jittered (not decorrelated), then
// capped again. Any k is safe: no overflow, no undefined behaviour, O(1).
#include <cstdint>

#include "duration.hpp"
#include "policy.hpp"
#include "random.hpp"

namespace retryx {

// The capped nominal delay before retry k (k >= 1), before jitter. For
// decorrelated it is the largest value the draw can reach.
Duration nominal_delay(const BackoffPolicy& policy, std::uint64_t k);

// The jitter applied to a capped nominal delay, capped again.
Duration apply_jitter(Duration nominal, const Jitter& jitter, Duration cap, Random& random);

// The closed range [low, high] the actual delay before retry k can take.
struct DelayRange {
  Duration low, high;
};
DelayRange delay_range(const BackoffPolicy& policy, std::uint64_t k);

// The delays of one run, in order.
class Backoff {
 public:
  Backoff(const BackoffPolicy& policy, Random& random) : policy_(policy), random_(random) {}

  // The delay before the next retry; advances to the following one.
  Duration next();
  // Starts over from retry 1 (--reset-after).
  void restart();

 private:
  const BackoffPolicy& policy_;
  Random& random_;
  std::uint64_t retry_ = 0;  // retries handed out since the last restart
  Duration previous_{};      // s_(k-1), for decorrelated
};

}  // namespace retryx
