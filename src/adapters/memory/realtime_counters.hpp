#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ports/realtime_counters.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Real-time counters in process memory, with the Redis adapter's semantics but exact: per code
// the total of human clicks, human clicks per minute and the set of visitors per day (exact
// distinct counts, no sketch). Minutes older than two hours and days older than two days (by
// the wall clock) are forgotten as deltas are added. Thread-safe (one mutex).
class MemoryRealtimeCounters final : public ports::RealtimeCounters {
 public:
  Result<void> Add(const std::vector<core::ClickDelta>& deltas) override;
  Result<ports::RealtimeStats> Read(std::string_view code, core::Micros now) override;

 private:
  struct Code {
    std::int64_t clicks = 0;
    std::map<core::Micros, std::int64_t> minutes;  // human clicks by minute start
    std::map<std::int32_t, std::set<std::string, std::less<>>> visitors;  // by day
  };

  std::mutex mu_;
  std::map<std::string, Code, std::less<>> codes_;
};

}  // namespace kurz::adapters::memory
