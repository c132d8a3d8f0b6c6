#pragma once

#include <span>
#include <string_view>

#include "adapters/sqlite/database.hpp"
#include "ports/click_log.hpp"

namespace kurz::adapters::sqlite {

using core::Result;

// Raw clicks in `clicks`, per-day counts in `daily_stats`, and urls.click_count, written
// together in one group-committed operation per batch. Stats reads click counts from
// daily_stats and unique visitors (distinct ip_hash) from clicks, in one snapshot.
// daily_stats' unique_visitors, top_referrers and breakdown columns are left to the analytics
// aggregation. The database must outlive the store.
class SqliteClickStore final : public ports::ClickLog, public ports::StatsStore {
 public:
  explicit SqliteClickStore(SqliteDatabase& db) : db_(db) {}

  Result<std::size_t> Append(std::span<const core::ClickRecord> batch) override;
  Result<core::LinkStats> Stats(std::string_view code, core::Date from, core::Date to) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace kurz::adapters::sqlite
