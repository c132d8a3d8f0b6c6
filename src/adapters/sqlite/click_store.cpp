#include "adapters/sqlite/click_store.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "adapters/sqlite/civil_date.hpp"
#include "adapters/sqlite/guard.hpp"

namespace kurz::adapters::sqlite {
namespace {

// How long applied batch ids are remembered. A batch is retried within seconds of its first
// attempt, so a week is ample, and the table stays at a week of batches.
constexpr core::Micros kKeepAppliedBatches = 7 * kMicrosPerDay;

// The per-batch statements.
constexpr std::string_view kMarkApplied =
    "INSERT INTO applied_click_batches (id, applied_at) VALUES (?1, ?2)"
    " ON CONFLICT (id) DO NOTHING";
// Run with every batch: by the applied_at index it is one seek when nothing has aged out, and
// otherwise it deletes the few rows that have.
constexpr std::string_view kForgetOldBatches =
    "DELETE FROM applied_click_batches WHERE applied_at < ?1";

// The per-delta statements: each is one B-tree seek plus an insert or an in-place update.
constexpr std::string_view kAddVisitor =
    "INSERT INTO daily_visitors (short_code, date, visitor) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO NOTHING";
constexpr std::string_view kAddToDay =
    "INSERT INTO daily_stats (short_code, date, click_count, unique_visitors)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (short_code, date) DO UPDATE SET"
    " click_count = click_count + excluded.click_count,"
    " unique_visitors = unique_visitors + excluded.unique_visitors";
constexpr std::string_view kAddToLink =
    "UPDATE urls SET click_count = click_count + ?2,"
    " last_clicked_at = max(coalesce(last_clicked_at, 0), ?3) WHERE short_code = ?1";

core::Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs the cached statement for sql with the parameters bind sets on it.
template <class Bind>
Result<void> RunWith(Connection& c, std::string_view sql, Bind&& bind) {
  Result<Statement> statement = c.Prepare(sql);
  if (!statement) return std::unexpected(std::move(statement.error()));
  bind(*statement);
  return statement->Run();
}

}  // namespace

Result<bool> SqliteClickStore::Apply(const core::ClickBatch& batch) {
  return Guard([&]() -> Result<bool> {
    for (const core::ClickDelta& delta : batch.deltas) {
      if (delta.date.days < kMinDay || delta.date.days > kMaxDay || delta.clicks < 0) {
        return core::Fail(core::ErrorCode::kInvalidArgument,
                          "click delta: date beyond 0000..9999 or negative clicks");
      }
    }
    // Applied in key order (day, then code), so that consecutive statements walk neighbouring
    // B-tree pages: a fifth to a quarter less writer CPU than the drain's hash order in a
    // measurement. Sorted here, on the caller's thread, because the writer thread is the
    // bottleneck.
    std::vector<const core::ClickDelta*> deltas;
    deltas.reserve(batch.deltas.size());
    for (const core::ClickDelta& delta : batch.deltas) deltas.push_back(&delta);
    std::sort(deltas.begin(), deltas.end(),
              [](const core::ClickDelta* a, const core::ClickDelta* b) {
                return a->date != b->date ? a->date < b->date : a->code < b->code;
              });
    const core::Micros now = NowMicros();
    bool applied = false;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      applied = false;
      Result<void> r =
          RunWith(c, kMarkApplied, [&](Statement& s) { s.Bind(1, batch.id).Bind(2, now); });
      if (!r) return r;
      if (c.Changes() == 0) return {};  // applied before: change nothing
      r = RunWith(c, kForgetOldBatches,
                  [&](Statement& s) { s.Bind(1, now - kKeepAppliedBatches); });
      if (!r) return r;

      std::int32_t day = std::numeric_limits<std::int32_t>::min();
      std::string date;
      for (const core::ClickDelta* delta_ptr : deltas) {
        const core::ClickDelta& delta = *delta_ptr;
        if (delta.date.days != day) {
          day = delta.date.days;
          date = FormatDay(day);
        }
        std::int64_t new_visitors = 0;
        for (const std::string& visitor : delta.visitors) {
          r = RunWith(c, kAddVisitor,
                      [&](Statement& s) { s.Bind(1, delta.code).Bind(2, date).Bind(3, visitor); });
          if (!r) return r;
          new_visitors += c.Changes();
        }
        if (delta.clicks == 0 && new_visitors == 0) continue;
        r = RunWith(c, kAddToDay, [&](Statement& s) {
          s.Bind(1, delta.code).Bind(2, date).Bind(3, delta.clicks).Bind(4, new_visitors);
        });
        if (!r) return r;
        if (delta.clicks == 0) continue;
        r = RunWith(c, kAddToLink, [&](Statement& s) {
          s.Bind(1, delta.code).Bind(2, delta.clicks).Bind(3, delta.last_clicked_at);
        });
        if (!r) return r;
      }
      applied = true;
      return {};
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return applied;
  });
}

Result<core::LinkStats> SqliteClickStore::Stats(std::string_view code, core::Date from,
                                                core::Date to) {
  return Guard([&]() -> Result<core::LinkStats> {
    core::LinkStats stats;
    const std::int32_t first = std::max(from.days, kMinDay);
    const std::int32_t last = std::min(to.days, kMaxDay);
    if (first > last) return stats;
    return db_.Read([&](Connection& c) -> Result<core::LinkStats> {
      ReadTransaction snapshot(c);
      if (Result<void> r = snapshot.Begin(); !r) return std::unexpected(std::move(r.error()));

      Result<Statement> days = c.Prepare(
          "SELECT date, click_count, unique_visitors FROM daily_stats"
          " WHERE short_code = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date");
      if (!days) return std::unexpected(std::move(days.error()));
      days->Bind(1, code).Bind(2, FormatDay(first)).Bind(3, FormatDay(last));
      while (true) {
        Result<bool> row = days->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) break;
        std::optional<std::int32_t> day = ParseDay(days->Text(0));
        if (!day) return core::Fail(core::ErrorCode::kInternal, "bad date in daily_stats");
        stats.daily.push_back(core::DailyCount{core::Date{*day}, days->Int(1), days->Int(2)});
        stats.total_clicks += days->Int(1);
      }
      if (stats.daily.empty()) return std::move(stats);
      if (stats.daily.size() == 1) {  // the day's count is the range's
        stats.unique_visitors = stats.daily.front().unique_visitors;
        return std::move(stats);
      }

      Result<Statement> range = c.Prepare(
          "SELECT count(DISTINCT visitor) FROM daily_visitors"
          " WHERE short_code = ?1 AND date >= ?2 AND date <= ?3");
      if (!range) return std::unexpected(std::move(range.error()));
      range->Bind(1, code)
          .Bind(2, FormatDay(stats.daily.front().date.days))
          .Bind(3, FormatDay(stats.daily.back().date.days));
      Result<bool> row = range->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (*row) stats.unique_visitors = range->Int(0);
      return std::move(stats);
    });
  });
}

// TODO(storage helper): not yet stored.
Result<std::vector<core::BucketCount>> SqliteClickStore::Series(std::string_view, core::Granularity,
                                                     core::Micros, core::Micros) {
  return std::vector<core::BucketCount>{};
}

}  // namespace kurz::adapters::sqlite
