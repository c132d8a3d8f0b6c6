#include "service/rate_limiter.hpp"

#include <algorithm>
#include <iterator>

namespace kurz::service {

namespace {
constexpr std::int64_t kSweepEveryUs = 10'000'000;
}

RateLimiter::RateLimiter(std::int64_t rate_per_second)
    : limit_{std::max<std::int64_t>(rate_per_second, 0),
             std::max<std::int64_t>(rate_per_second, 1)},
      shards_(std::make_unique<std::array<Shard, kShards>>()) {}

core::GcraDecision RateLimiter::Check(Key key, std::int64_t now_us) {
  if (!enabled()) return {true, 0, limit_.burst, 0, 0};
  Shard& shard = (*shards_)[KeyHash{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  // Keys whose bucket is full again carry no state worth keeping: sweep them now and then, so
  // a flood of distinct clients cannot grow the map without bound.
  if (now_us - shard.last_sweep_us > kSweepEveryUs) {
    std::erase_if(shard.tat, [now_us](const auto& entry) { return entry.second <= now_us; });
    shard.last_sweep_us = now_us;
  }
  auto [it, inserted] = shard.tat.try_emplace(key, 0);
  const core::GcraDecision decision = core::GcraCheck(limit_, it->second, now_us);
  if (decision.allowed) it->second = decision.new_tat;
  return decision;
}

}  // namespace kurz::service
