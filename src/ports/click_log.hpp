#pragma once

#include "core/click_event.hpp"
#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// Where answered redirects are counted. Blocking; called by the background drain thread.
class ClickLog {
 public:
  virtual ~ClickLog() = default;

  // Durably applies a batch in one transaction: for each delta, adds its clicks to the code's
  // daily count and to the link's click_count (and moves last_clicked_at forward), and records
  // its visitors, so a day's unique_visitors counts each visitor once. Idempotent by batch id:
  // true when applied now, false when this id was applied before (nothing changes).
  virtual Result<bool> Apply(const core::ClickBatch& batch) = 0;
};

// Read side of click analytics.
class StatsStore {
 public:
  virtual ~StatsStore() = default;

  // Clicks of `code` on the days from..to (inclusive, UTC): total, distinct visitors over the
  // range, and per-day counts (clicks, visitors) for days that had clicks, oldest first.
  virtual Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) = 0;
};

}  // namespace kurz::ports
