#include "adapters/memory/realtime_counters.hpp"

#include <chrono>

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {
namespace {

// As long as the Redis adapter keeps its keys.
constexpr core::Micros kKeepMinutes = 2 * core::kMicrosPerHour;
constexpr std::int32_t kKeepDays = 2;

core::Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The start of the minute t lies in (also before 1970).
core::Micros MinuteOf(core::Micros t) {
  core::Micros into = t % core::kMicrosPerMinute;
  if (into < 0) into += core::kMicrosPerMinute;
  return t - into;
}

}  // namespace

Result<void> MemoryRealtimeCounters::Add(const std::vector<core::ClickDelta>& deltas) {
  return Guard([&]() -> Result<void> {
    const core::Micros now = NowMicros();
    const core::Micros oldest_minute = MinuteOf(now) - kKeepMinutes;
    const std::int32_t oldest_day = core::DateOf(now).days - kKeepDays;
    std::lock_guard lock(mu_);
    for (const core::ClickDelta& delta : deltas) {
      auto it = codes_.find(delta.code);
      if (it == codes_.end()) it = codes_.try_emplace(delta.code).first;
      Code& code = it->second;
      code.clicks += delta.clicks;
      for (const core::BucketCount& m : delta.minutes) {
        if (m.clicks != 0) code.minutes[MinuteOf(m.start)] += m.clicks;
      }
      if (!delta.visitors.empty()) {
        code.visitors[delta.date.days].insert(delta.visitors.begin(), delta.visitors.end());
      }
      code.minutes.erase(code.minutes.begin(), code.minutes.lower_bound(oldest_minute));
      code.visitors.erase(code.visitors.begin(), code.visitors.lower_bound(oldest_day));
    }
    return {};
  });
}

Result<ports::RealtimeStats> MemoryRealtimeCounters::Read(std::string_view code, core::Micros now) {
  return Guard([&]() -> Result<ports::RealtimeStats> {
    ports::RealtimeStats stats;
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) return stats;
    stats.clicks = it->second.clicks;
    // The minute of `now` and the 59 before it.
    const core::Micros last = MinuteOf(now);
    const auto end = it->second.minutes.upper_bound(last);
    for (auto m = it->second.minutes.lower_bound(last - 59 * core::kMicrosPerMinute); m != end;
         ++m) {
      stats.clicks_last_hour += m->second;
    }
    auto today = it->second.visitors.find(core::DateOf(now).days);
    if (today != it->second.visitors.end()) {
      stats.visitors_today = static_cast<std::int64_t>(today->second.size());
    }
    return stats;
  });
}

}  // namespace kurz::adapters::memory
