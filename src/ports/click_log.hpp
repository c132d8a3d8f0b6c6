#pragma once

#include <span>

#include "core/click_event.hpp"
#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// Where answered redirects are recorded. Blocking; called by the background drain thread.
class ClickLog {
 public:
  virtual ~ClickLog() = default;

  // Durably applies a batch in one transaction: stores each click, adds it to its code's daily
  // count and to the link's click_count. Idempotent by event_id: a click already applied is
  // skipped, so replaying a batch never double counts. Returns how many were new.
  virtual Result<std::size_t> Append(std::span<const core::ClickRecord> batch) = 0;
};

// Read side of click analytics.
class StatsStore {
 public:
  virtual ~StatsStore() = default;

  // Clicks of `code` on the days from..to (inclusive, UTC): total, distinct visitors (by
  // ip_hash) over the range, and per-day counts for days that had clicks, oldest first.
  virtual Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) = 0;
};

}  // namespace kurz::ports
