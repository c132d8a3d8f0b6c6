#pragma once

#include <string_view>
#include <vector>

#include "adapters/postgres/database.hpp"
#include "ports/click_log.hpp"

namespace kurz::adapters::postgres {

using core::Result;

// Aggregated clicks, as in the SQLite adapter: per-day counts (human and bot) and breakdowns in
// `daily_stats`, each day's visitors in `daily_visitors`, per-minute and per-hour counts in
// `minute_stats` / `hourly_stats`, and urls.click_count / last_clicked_at, written in one
// transaction per batch together with its id in `applied_click_batches` (kept a week). A batch
// takes a handful of statements whatever its size: each table gets one set-based statement over
// arrays (unnest), after the batch's deltas are summed per code and day on the caller's thread. A
// day's breakdowns are JSONB objects {"value": clicks}: the day rows are locked by the count
// upsert, read, merged (core::MergeBreakdown, capped) and written back, so concurrent writers
// from several instances neither lose nor double clicks. Event stream positions are in
// `stream_positions`, moved first in the batch's transaction by one statement that updates only
// rows still at the batch's `from` and inserts missing ones (ON CONFLICT DO NOTHING): a
// partition that another consumer moved or started meanwhile is not matched, and the batch fails
// with conflict and rolls back. The database must outlive the store.
class PostgresClickStore final : public ports::ClickLog, public ports::StatsStore {
 public:
  explicit PostgresClickStore(PostgresDatabase& db) : db_(db) {}

  // invalid_argument (nothing applied) when a delta's date is outside 0000-01-01..9999-12-31, a
  // count is negative, a minute bucket is not a whole minute of the delta's day, or a position
  // move is malformed (core::InvalidMoves).
  Result<bool> Apply(const core::ClickBatch& batch) override;
  Result<std::vector<core::StreamPosition>> Positions(std::string_view stream) override;
  // One statement, so one snapshot: the days, their breakdowns and the range's distinct visitors.
  Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) override;
  Result<std::vector<core::BucketCount>> Series(std::string_view code,
                                                core::Granularity granularity, core::Micros from,
                                                core::Micros to) override;

 private:
  PostgresDatabase& db_;
};

}  // namespace kurz::adapters::postgres
