#pragma once

#include <string_view>
#include <vector>

#include "adapters/sqlite/database.hpp"
#include "ports/click_log.hpp"

namespace kurz::adapters::sqlite {

using core::Result;

// Aggregated clicks: per-day counts (human and bot) and breakdowns in `daily_stats`, each day's
// visitors in `daily_visitors`, per-minute and per-hour counts in `minute_stats` /
// `hourly_stats`, and urls.click_count / last_clicked_at, written together in one
// group-committed operation per batch; applied batch ids in `applied_click_batches` (kept a
// week), event stream positions in `stream_positions` (checked and moved by the same operation;
// the one writer thread makes the check and the move atomic). Raw `clicks` rows are not written. A
// day's breakdowns are JSON objects
// {"value": clicks}, read, merged and rewritten by Apply. Stats reads daily_stats, and distinct
// visitors over a range from daily_visitors, in one snapshot. The database must outlive the
// store.
class SqliteClickStore final : public ports::ClickLog, public ports::StatsStore {
 public:
  explicit SqliteClickStore(SqliteDatabase& db) : db_(db) {}

  // invalid_argument (nothing applied) when a delta's date is outside 0000-01-01..9999-12-31, a
  // count is negative, a minute bucket is not a whole minute of the delta's day, or a position
  // move is malformed (core::InvalidMoves).
  Result<bool> Apply(const core::ClickBatch& batch) override;
  Result<std::vector<core::StreamPosition>> Positions(std::string_view stream) override;
  Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) override;
  Result<std::vector<core::BucketCount>> Series(std::string_view code,
                                                core::Granularity granularity, core::Micros from,
                                                core::Micros to) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace kurz::adapters::sqlite
