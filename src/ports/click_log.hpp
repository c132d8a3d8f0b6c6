#pragma once

#include "core/click_event.hpp"
#include "core/error.hpp"

#include <string_view>
#include <vector>

namespace kurz::ports {

using core::Result;

// Where answered redirects are counted. Blocking; called by the background drain thread.
class ClickLog {
 public:
  virtual ~ClickLog() = default;

  // Durably applies a batch in one transaction: for each delta, adds its clicks and bot clicks
  // to the code's daily counts, its breakdowns to the day's (core::MergeBreakdown), its minutes
  // to the per-minute and per-hour counts, its human clicks to the link's click_count (and moves
  // last_clicked_at forward), and records its visitors, so a day's unique_visitors counts each
  // visitor once. Per-minute and per-hour counts older than core::kMinuteRetention /
  // core::kHourRetention (by the wall clock) are deleted. Idempotent by batch id: true when
  // applied now, false when this id was applied before (nothing changes). invalid_argument, with
  // nothing applied, for a delta dated beyond 0000..9999 or with negative counts.
  //
  // A batch with positions (read by `kurz worker` from the event stream) is applied only if each
  // of its (stream, partition) positions is stored at its `from` (or none is stored yet); the
  // same transaction then stores `to`. Otherwise nothing is applied and it fails with conflict:
  // another consumer has moved that partition on (this one lost it in a rebalance), so counts
  // are exactly-once however partitions move between consumers.
  virtual Result<bool> Apply(const core::ClickBatch& batch) = 0;

  // The stored positions of `stream` (next offset to read per partition), any order.
  virtual Result<std::vector<core::StreamPosition>> Positions(std::string_view stream) = 0;
};

// Read side of click analytics.
class StatsStore {
 public:
  virtual ~StatsStore() = default;

  // Clicks of `code` on the days from..to (inclusive, UTC): human and bot totals, distinct
  // visitors over the range, per-day counts for days that had clicks (oldest first), and the
  // range's breakdowns (each sorted by core::SortBreakdown, complete).
  virtual Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) = 0;

  // Clicks of `code` per bucket of `granularity` whose start lies in [from, to): only buckets
  // that had clicks, oldest first. Minutes older than core::kMinuteRetention and hours older
  // than core::kHourRetention may be gone; days come from the daily counts (start = midnight).
  virtual Result<std::vector<core::BucketCount>> Series(std::string_view code,
                                                        core::Granularity granularity,
                                                        core::Micros from, core::Micros to) = 0;
};

}  // namespace kurz::ports
