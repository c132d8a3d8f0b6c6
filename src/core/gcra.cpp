#include "core/gcra.hpp"

#include <algorithm>

namespace kurz::core {

// Standard GCRA: each request advances the theoretical arrival time (TAT) by the emission
// interval T = 1 s / rate, and a request is allowed while it leaves the TAT at most burst * T
// ahead of now. A fresh key can therefore spend `burst` requests at once, then one per T.
GcraDecision GcraCheck(const GcraLimit& limit, std::int64_t tat_us, std::int64_t now_us) {
  constexpr std::int64_t kMicrosPerSecond = 1'000'000;
  // Out-of-contract limits are clamped rather than divided by: the data plane must not crash.
  const std::int64_t rate = std::clamp<std::int64_t>(limit.rate_per_second, 1, kMicrosPerSecond);
  const std::int64_t burst = std::clamp<std::int64_t>(limit.burst, 1, kMicrosPerSecond);
  const std::int64_t interval = kMicrosPerSecond / rate;
  const std::int64_t capacity = burst * interval;

  const std::int64_t tat = std::max(tat_us, now_us);
  const std::int64_t new_tat = tat + interval;
  if (new_tat - now_us <= capacity) {
    return GcraDecision{
        .allowed = true,
        .new_tat = new_tat,
        .remaining = (capacity - (new_tat - now_us)) / interval,
        .retry_after_us = 0,
        .reset_after_us = new_tat - now_us,
    };
  }
  return GcraDecision{
      .allowed = false,
      .new_tat = tat_us,
      .remaining = 0,
      .retry_after_us = new_tat - capacity - now_us,
      .reset_after_us = tat - now_us,
  };
}

}  // namespace kurz::core
