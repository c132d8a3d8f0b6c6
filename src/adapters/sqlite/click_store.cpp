#include "adapters/sqlite/click_store.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "adapters/sqlite/civil_date.hpp"
#include "adapters/sqlite/guard.hpp"

namespace kurz::adapters::sqlite {

Result<std::size_t> SqliteClickStore::Append(std::span<const core::ClickRecord> batch) {
  return Guard([&]() -> Result<std::size_t> {
    std::size_t added = 0;
    if (batch.empty()) return added;
    Result<void> done = db_.Write([&](Connection& c) -> Result<void> {
      added = 0;
      // New clicks per (code, day) and per code, applied with one statement each afterwards:
      // a batch is mostly a few hot codes.
      std::map<std::pair<std::string_view, std::int32_t>, std::int64_t> per_day;
      std::map<std::string_view, std::pair<std::int64_t, core::Micros>> per_code;
      for (const core::ClickRecord& click : batch) {
        Result<Statement> insert = c.Prepare(
            "INSERT INTO clicks (event_id, short_code, clicked_at, ip_hash, user_agent, referrer,"
            " accept_language) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            " ON CONFLICT (event_id) DO NOTHING");
        if (!insert) return std::unexpected(std::move(insert.error()));
        insert->Bind(1, click.event_id)
            .Bind(2, click.code)
            .Bind(3, click.at)
            .Bind(4, click.ip_hash)
            .Bind(5, click.user_agent)
            .Bind(6, click.referrer)
            .Bind(7, click.accept_language);
        if (Result<void> r = insert->Run(); !r) return r;
        if (c.Changes() == 0) continue;  // already applied
        ++added;
        ++per_day[{click.code, DayOf(click.at)}];
        auto [it, inserted] = per_code.try_emplace(click.code, 0, click.at);
        ++it->second.first;
        it->second.second = std::max(it->second.second, click.at);
      }
      for (const auto& [key, clicks] : per_day) {
        Result<Statement> upsert = c.Prepare(
            "INSERT INTO daily_stats (short_code, date, click_count) VALUES (?1, ?2, ?3)"
            " ON CONFLICT (short_code, date)"
            " DO UPDATE SET click_count = click_count + excluded.click_count");
        if (!upsert) return std::unexpected(std::move(upsert.error()));
        upsert->Bind(1, key.first).Bind(2, FormatDay(key.second)).Bind(3, clicks);
        if (Result<void> r = upsert->Run(); !r) return r;
      }
      for (const auto& [code, counts] : per_code) {
        Result<Statement> update = c.Prepare(
            "UPDATE urls SET click_count = click_count + ?2,"
            " last_clicked_at = max(coalesce(last_clicked_at, ?3), ?3) WHERE short_code = ?1");
        if (!update) return std::unexpected(std::move(update.error()));
        update->Bind(1, code).Bind(2, counts.first).Bind(3, counts.second);
        if (Result<void> r = update->Run(); !r) return r;
      }
      return {};
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return added;
  });
}

Result<core::LinkStats> SqliteClickStore::Stats(std::string_view code, core::Date from,
                                                core::Date to) {
  return Guard([&]() -> Result<core::LinkStats> {
    core::LinkStats stats;
    const std::int32_t first = std::max(from.days, kMinDay);
    const std::int32_t last = std::min(to.days, kMaxDay);
    if (first > last) return stats;
    const core::Micros start = first * kMicrosPerDay;
    const core::Micros end = (static_cast<core::Micros>(last) + 1) * kMicrosPerDay;
    return db_.Read([&](Connection& c) -> Result<core::LinkStats> {
      ReadTransaction snapshot(c);
      if (Result<void> r = snapshot.Begin(); !r) return std::unexpected(std::move(r.error()));

      Result<Statement> days = c.Prepare(
          "SELECT date, click_count FROM daily_stats"
          " WHERE short_code = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date");
      if (!days) return std::unexpected(std::move(days.error()));
      days->Bind(1, code).Bind(2, FormatDay(first)).Bind(3, FormatDay(last));
      while (true) {
        Result<bool> row = days->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) break;
        std::optional<std::int32_t> day = ParseDay(days->Text(0));
        if (!day) return core::Fail(core::ErrorCode::kInternal, "bad date in daily_stats");
        stats.daily.push_back(core::DailyCount{core::Date{*day}, days->Int(1), 0});
        stats.total_clicks += days->Int(1);
      }

      Result<Statement> visitors = c.Prepare(
          "SELECT (clicked_at - ?2) / 86400000000, count(DISTINCT ip_hash) FROM clicks"
          " WHERE short_code = ?1 AND clicked_at >= ?2 AND clicked_at < ?3 GROUP BY 1");
      if (!visitors) return std::unexpected(std::move(visitors.error()));
      visitors->Bind(1, code).Bind(2, start).Bind(3, end);
      while (true) {
        Result<bool> row = visitors->Step();
        if (!row) return std::unexpected(std::move(row.error()));
        if (!*row) break;
        const core::Date day{first + static_cast<std::int32_t>(visitors->Int(0))};
        auto it = std::lower_bound(
            stats.daily.begin(), stats.daily.end(), day,
            [](const core::DailyCount& d, const core::Date& date) { return d.date < date; });
        if (it != stats.daily.end() && it->date == day) it->unique_visitors = visitors->Int(1);
      }

      Result<Statement> range = c.Prepare(
          "SELECT count(DISTINCT ip_hash) FROM clicks"
          " WHERE short_code = ?1 AND clicked_at >= ?2 AND clicked_at < ?3");
      if (!range) return std::unexpected(std::move(range.error()));
      range->Bind(1, code).Bind(2, start).Bind(3, end);
      Result<bool> row = range->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (*row) stats.unique_visitors = range->Int(0);
      return std::move(stats);
    });
  });
}

}  // namespace kurz::adapters::sqlite
