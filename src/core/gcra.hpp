#pragma once

#include <cstdint>

namespace kurz::core {

// Generic Cell Rate Algorithm: `rate` requests per second with a burst of `burst`. The whole
// state of one key is a single "theoretical arrival time" (TAT), so limiters can keep it in an
// atomic, a hash map slot or a Redis key.
struct GcraDecision {
  bool allowed;
  std::int64_t new_tat;         // store this when allowed (unchanged state otherwise)
  std::int64_t remaining;       // requests still allowed right now (RateLimit-Remaining)
  std::int64_t retry_after_us;  // when denied: wait this long (Retry-After, rounded up)
  std::int64_t reset_after_us;  // until the bucket is full again (RateLimit-Reset)
};

struct GcraLimit {
  std::int64_t rate_per_second;  // > 0
  std::int64_t burst;            // >= 1
};

// now_us and tat_us in microseconds on any monotonic clock; tat_us == 0 means a fresh key.
GcraDecision GcraCheck(const GcraLimit& limit, std::int64_t tat_us, std::int64_t now_us);

}  // namespace kurz::core
