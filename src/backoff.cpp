#include "backoff.hpp"

#include <algorithm>
#include <cmath>

namespace retryx {

namespace {

using Seconds = std::chrono::duration<double>;

double seconds(Duration d) { return Seconds(d).count(); }

// Converts after capping, so the value always fits: the cap is at most 100
// days. Infinite and huge values (k = 10^6) collapse to the cap here.
Duration capped(double value_seconds, Duration cap) {
  if (!(value_seconds < seconds(cap))) return cap;  // also catches NaN and inf
  if (value_seconds <= 0) return Duration::zero();
  return Duration(std::llround(value_seconds * 1e9));
}

// F(k) with F(1) = F(2) = 1. Exact while it fits a double's mantissa; beyond,
// Binet's formula is accurate to far more than a nanosecond delay needs, and
// it overflows to inf (then the cap) rather than wrapping.
double fibonacci(std::uint64_t k) {
  if (k <= 78) {
    std::uint64_t a = 0, b = 1;  // F(0), F(1)
    for (std::uint64_t i = 1; i < k; ++i) {
      std::uint64_t next = a + b;
      a = b;
      b = next;
    }
    return static_cast<double>(b);
  }
  const double phi = (1 + std::sqrt(5.0)) / 2;
  return std::pow(phi, static_cast<double>(k)) / std::sqrt(5.0);
}

double nominal_seconds(const BackoffPolicy& p, std::uint64_t k) {
  if (!p.delays.empty()) return seconds(p.delays[std::min<std::uint64_t>(k, p.delays.size()) - 1]);
  const double d = seconds(p.delay), kk = static_cast<double>(k);
  // 0 x inf is NaN, which the cap would read as "huge": a zero base delay
  // stays zero however large the factor grows.
  if (d <= 0) return 0;
  switch (p.kind) {
    case BackoffKind::fixed: return d;
    case BackoffKind::linear: return d * kk;
    case BackoffKind::exponential: return d * std::pow(p.multiplier, kk - 1);
    case BackoffKind::fibonacci: return d * fibonacci(k);
    case BackoffKind::decorrelated: return d * std::pow(3.0, kk);  // the reach of k draws
  }
  return d;
}

}  // namespace

Duration nominal_delay(const BackoffPolicy& policy, std::uint64_t k) {
  return capped(nominal_seconds(policy, std::max<std::uint64_t>(k, 1)), policy.max_delay);
}

Duration apply_jitter(Duration nominal, const Jitter& jitter, Duration cap, Random& random) {
  const double n = seconds(nominal);
  switch (jitter.kind) {
    case Jitter::Kind::none: return capped(n, cap);
    case Jitter::Kind::full: return capped(random.uniform(0, n), cap);
    case Jitter::Kind::equal: return capped(n / 2 + random.uniform(0, n / 2), cap);
    case Jitter::Kind::proportional:
      return capped(random.uniform(n * (1 - jitter.proportion), n * (1 + jitter.proportion)), cap);
  }
  return capped(n, cap);
}

DelayRange delay_range(const BackoffPolicy& policy, std::uint64_t k) {
  const Duration nominal = nominal_delay(policy, k);
  if (policy.delays.empty() && policy.kind == BackoffKind::decorrelated)
    return {std::min(policy.delay, policy.max_delay), nominal};
  const double n = seconds(nominal);
  const Duration cap = policy.max_delay;
  switch (policy.jitter.kind) {
    case Jitter::Kind::none: return {nominal, nominal};
    case Jitter::Kind::full: return {Duration::zero(), nominal};
    case Jitter::Kind::equal: return {capped(n / 2, cap), nominal};
    case Jitter::Kind::proportional:
      return {capped(n * (1 - policy.jitter.proportion), cap),
              capped(n * (1 + policy.jitter.proportion), cap)};
  }
  return {nominal, nominal};
}

Duration Backoff::next() {
  ++retry_;
  if (policy_.delays.empty() && policy_.kind == BackoffKind::decorrelated) {
    const Duration previous = retry_ == 1 ? policy_.delay : previous_;
    previous_ = capped(random_.uniform(seconds(policy_.delay), 3 * seconds(previous)), policy_.max_delay);
    return previous_;
  }
  return apply_jitter(nominal_delay(policy_, retry_), policy_.jitter, policy_.max_delay, random_);
}

void Backoff::restart() { retry_ = 0; }

}  // namespace retryx
