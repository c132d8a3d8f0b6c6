#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/click_event.hpp"
#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// What the real-time counters know of one code.
struct RealtimeStats {
  std::int64_t clicks = 0;            // human clicks counted so far (all time)
  std::int64_t clicks_last_hour = 0;  // human clicks in the 60 minutes before `now`
  std::int64_t visitors_today = 0;    // distinct visitors today (UTC), HyperLogLog estimate
  bool operator==(const RealtimeStats&) const = default;
};

// Real-time click counters (Redis in cluster mode): cheap to read on every stats request,
// approximate in that an update lost to a crash is not redone (PostgreSQL holds the exact
// counts). Per-minute counters are kept two hours, visitor sketches two days. Thread-safe.
class RealtimeCounters {
 public:
  virtual ~RealtimeCounters() = default;

  // Adds the deltas' human clicks (total and per minute) and visitors.
  virtual Result<void> Add(const std::vector<core::ClickDelta>& deltas) = 0;

  virtual Result<RealtimeStats> Read(std::string_view code, core::Micros now) = 0;
};

}  // namespace kurz::ports
