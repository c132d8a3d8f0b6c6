#include "adapters/postgres/click_store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/common/breakdown_json.hpp"
#include "adapters/postgres/guard.hpp"

namespace kurz::adapters::postgres {
namespace {

using core::ErrorCode;
using core::Fail;

constexpr core::Micros kMicrosPerDay = 86'400 * core::kMicrosPerSecond;
// 0000-01-01 .. 9999-12-31 (days since 1970-01-01): the days a delta may have.
constexpr std::int32_t kMinDay = core::kMinStoredDay;
constexpr std::int32_t kMaxDay = core::kMaxStoredDay;
// How long applied batch ids are remembered: a batch is retried within seconds, so a week is
// ample.
constexpr core::Micros kKeepAppliedBatches = 7 * kMicrosPerDay;

// The breakdown columns, in core::Dimension order.
constexpr std::array<std::string_view, core::kDimensionCount> kBreakdownColumns = {
    "top_referrers",     "country_breakdown", "device_breakdown",
    "browser_breakdown", "os_breakdown",      "city_breakdown"};

std::int32_t DayOf(core::Micros t) {
  core::Micros day = t / kMicrosPerDay;
  if (t % kMicrosPerDay < 0) --day;
  return static_cast<std::int32_t>(day);
}

// Replaces what JSONB cannot hold as a key (NUL, invalid UTF-8) with U+FFFD, so that a value
// reads back exactly as it is merged next time.
std::string Sanitized(std::string_view in) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    std::size_t length = 0;
    std::uint32_t min = 0;
    if (c >= 0x01 && c <= 0x7F) {
      length = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      length = 2, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4, min = 0x10000;
    }
    bool valid = length != 0 && i + length <= in.size();
    std::uint32_t code_point = !valid || length == 1 ? c : c & (0x3Fu >> (length - 1));
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(in[i + k]);
      if ((next & 0xC0) != 0x80) valid = false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (valid && length > 1 &&
        (code_point < min || code_point > 0x10FFFF ||
         (code_point >= 0xD800 && code_point <= 0xDFFF))) {
      valid = false;
    }
    if (valid) {
      out.append(in.substr(i, length));
      i += length;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
  return out;
}

bool NeedsSanitizing(std::string_view s) {
  return std::ranges::any_of(
      s, [](char c) { return c == '\0' || static_cast<unsigned char>(c) >= 0x80; });
}

// The batch's deltas of one code and day, summed (a batch may hold several).
struct DayDelta {
  std::int64_t clicks = 0;
  std::int64_t bot_clicks = 0;
  std::vector<std::string> visitors;  // sorted, distinct
  core::Breakdowns breakdowns;        // uncapped sums, values in first-seen order
  bool has_breakdowns = false;
  std::vector<core::BucketCount> minutes;  // by start, summed, none empty
  std::vector<core::BucketCount> hours;    // likewise
  std::int64_t new_visitors = 0;           // found by the visitor insert
};
using DayKey = std::pair<std::int32_t, std::string>;  // (day, code): the rows' lock order

// Human clicks of one code over the batch, for urls.click_count.
struct LinkDelta {
  std::int64_t clicks = 0;
  core::Micros last_clicked_at = 0;
};

struct PreparedBatch {
  std::map<DayKey, DayDelta> days;
  std::map<std::string, LinkDelta> links;
};

PreparedBatch Prepare(const core::ClickBatch& batch) {
  PreparedBatch p;
  for (const core::ClickDelta& delta : batch.deltas) {
    DayDelta& day = p.days[DayKey{delta.date.days, delta.code}];
    day.clicks += delta.clicks;
    day.bot_clicks += delta.bot_clicks;
    day.visitors.insert(day.visitors.end(), delta.visitors.begin(), delta.visitors.end());
    for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
      const core::Breakdown& add = delta.breakdowns[i];
      if (std::ranges::any_of(add,
                              [](const core::ValueCount& v) { return NeedsSanitizing(v.value); })) {
        core::Breakdown clean = add;
        for (core::ValueCount& v : clean) v.value = Sanitized(v.value);
        core::MergeBreakdown(day.breakdowns[i], clean, std::numeric_limits<std::size_t>::max());
      } else {
        core::MergeBreakdown(day.breakdowns[i], add, std::numeric_limits<std::size_t>::max());
      }
    }
    day.minutes.insert(day.minutes.end(), delta.minutes.begin(), delta.minutes.end());
    if (delta.clicks > 0) {
      LinkDelta& link = p.links[delta.code];
      link.clicks += delta.clicks;
      link.last_clicked_at = std::max(link.last_clicked_at, delta.last_clicked_at);
    }
  }
  for (auto& [key, day] : p.days) {
    std::ranges::sort(day.visitors);
    const auto duplicates = std::ranges::unique(day.visitors);
    day.visitors.erase(duplicates.begin(), duplicates.end());
    day.has_breakdowns =
        std::ranges::any_of(day.breakdowns, [](const core::Breakdown& b) { return !b.empty(); });
    core::SumByStart(day.minutes);
    day.hours = core::HoursOf(day.minutes);
  }
  return p;
}

// The batch's statements. Each takes arrays and touches rows in the arrays' order (sorted the
// same way by every writer, so concurrent batches lock in one order).
const std::string& MarkAppliedSql() {
  static const std::string sql = "INSERT INTO applied_click_batches (id, applied_at) VALUES ($1, " +
                                 Ts(2) + ") ON CONFLICT (id) DO NOTHING";
  return sql;
}

const std::string& AddVisitorsSql() {
  static const std::string sql =
      "INSERT INTO daily_visitors (short_code, date, visitor)"
      " SELECT t.c, DATE '1970-01-01' + t.d, t.v"
      " FROM unnest($1::text[], $2::int4[], $3::text[]) AS t(c, d, v)"
      " ON CONFLICT DO NOTHING RETURNING short_code, " +
      DaysOf("date");
  return sql;
}

// Moves each position that is at its `from` and starts each one that is not stored yet; returns
// the moves that did neither (stored at another offset, or started by a concurrent transaction:
// its insert is waited for and then skipped). Both data-modifying parts see the statement's
// snapshot, so a position is either updated or inserted, never both.
constexpr std::string_view kMovePositions =
    "WITH moves AS (SELECT t.s, t.p, t.f, t.n"
    " FROM unnest($1::text[], $2::int4[], $3::int8[], $4::int8[]) AS t(s, p, f, n)),"
    " moved AS (UPDATE stream_positions AS sp SET next_offset = m.n FROM moves AS m"
    " WHERE sp.stream = m.s AND sp.partition = m.p AND sp.next_offset = m.f"
    " RETURNING sp.stream, sp.partition),"
    " started AS (INSERT INTO stream_positions (stream, partition, next_offset)"
    " SELECT m.s, m.p, m.n FROM moves AS m WHERE NOT EXISTS (SELECT 1 FROM stream_positions AS sp"
    " WHERE sp.stream = m.s AND sp.partition = m.p) ORDER BY m.s, m.p"
    " ON CONFLICT (stream, partition) DO NOTHING RETURNING stream, partition)"
    " SELECT m.s, m.p, m.f FROM moves AS m"
    " WHERE NOT EXISTS (SELECT 1 FROM moved AS x WHERE x.stream = m.s AND x.partition = m.p)"
    " AND NOT EXISTS (SELECT 1 FROM started AS x WHERE x.stream = m.s AND x.partition = m.p)"
    " ORDER BY m.s, m.p";
constexpr std::string_view kReadPosition =
    "SELECT next_offset FROM stream_positions WHERE stream = $1 AND partition = $2";

constexpr std::string_view kAddToDays =
    "INSERT INTO daily_stats AS s (short_code, date, click_count, bot_clicks, unique_visitors)"
    " SELECT t.c, DATE '1970-01-01' + t.d, t.n, t.b, t.u"
    " FROM unnest($1::text[], $2::int4[], $3::int8[], $4::int8[], $5::int8[]) AS t(c, d, n, b, u)"
    " ON CONFLICT (short_code, date) DO UPDATE SET"
    " click_count = s.click_count + excluded.click_count,"
    " bot_clicks = s.bot_clicks + excluded.bot_clicks,"
    " unique_visitors = s.unique_visitors + excluded.unique_visitors";

const std::string& ReadBreakdownsSql() {
  static const std::string sql = [] {
    std::string s = "SELECT s.short_code, " + DaysOf("s.date");
    for (std::string_view column : kBreakdownColumns) s += ", s." + std::string(column) + "::text";
    s += " FROM daily_stats AS s JOIN unnest($1::text[], $2::int4[]) AS t(c, d)"
         " ON s.short_code = t.c AND s.date = DATE '1970-01-01' + t.d";
    return s;
  }();
  return sql;
}

// A NULL column in the arrays leaves that breakdown as it is.
const std::string& WriteBreakdownsSql() {
  static const std::string sql = [] {
    std::string s = "UPDATE daily_stats AS s SET ";
    for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
      const std::string column(kBreakdownColumns[i]);
      if (i != 0) s += ", ";
      s.append(column).append(" = coalesce(t.v").append(std::to_string(i));
      s.append("::jsonb, s.").append(column).append(")");
    }
    s += " FROM unnest($1::text[], $2::int4[]";
    for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
      s += ", $" + std::to_string(3 + i) + "::text[]";
    }
    s += ") AS t(c, d";
    for (std::size_t i = 0; i < core::kDimensionCount; ++i) s += ", v" + std::to_string(i);
    s += ") WHERE s.short_code = t.c AND s.date = DATE '1970-01-01' + t.d";
    return s;
  }();
  return sql;
}

std::string AddToBucketsSql(std::string_view table, std::string_view column) {
  const std::string t(table);
  const std::string c(column);
  return "INSERT INTO " + t + " AS s (short_code, " + c +
         ", clicks, bot_clicks)"
         " SELECT t.c, " +
         TsOf("t.m") +
         ", t.n, t.b"
         " FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]) AS t(c, m, n, b)"
         " ON CONFLICT (short_code, " +
         c +
         ") DO UPDATE SET clicks = s.clicks + excluded.clicks,"
         " bot_clicks = s.bot_clicks + excluded.bot_clicks";
}

const std::string& AddToLinksSql() {
  static const std::string sql =
      "UPDATE urls AS u SET click_count = u.click_count + t.n,"
      " last_clicked_at = greatest(u.last_clicked_at, " +
      TsOf("t.at") +
      ")"
      " FROM unnest($1::text[], $2::int8[], $3::int8[]) AS t(c, n, at) WHERE u.short_code = t.c";
  return sql;
}

// After the inserts, so that no batch leaves rows beyond retention behind. Each is one seek on
// its time index when nothing has aged out.
const std::string& ForgetOldSql() {
  static const std::string sql =
      "WITH batches AS (DELETE FROM applied_click_batches WHERE applied_at < " + Ts(1) +
      "), minutes AS (DELETE FROM minute_stats WHERE minute < " + Ts(2) +
      ") DELETE FROM hourly_stats WHERE hour < " + Ts(3);
  return sql;
}

Result<void> Done(const Result<Rows>& r) {
  if (!r) return std::unexpected(r.error());
  return {};
}

// Writes the day rows' breakdowns: reads the current ones (the rows are locked by the count
// upsert that came before), merges the batch's in with the daily cap, writes them back.
Result<void> MergeBreakdowns(Connection& c, PreparedBatch& p) {
  std::vector<std::string> codes;
  std::vector<std::int64_t> days;
  for (const auto& [key, day] : p.days) {
    if (!day.has_breakdowns) continue;
    days.push_back(key.first);
    codes.push_back(key.second);
  }
  if (codes.empty()) return {};
  Result<Rows> current = c.Query(ReadBreakdownsSql(), TextArray(codes), IntArray(days));
  if (!current) return std::unexpected(std::move(current.error()));
  std::map<DayKey, int> row_of;
  for (int row = 0; row < current->Size(); ++row) {
    row_of[DayKey{static_cast<std::int32_t>(current->Int(row, 1)), current->Text(row, 0)}] = row;
  }
  std::array<std::vector<std::optional<std::string>>, core::kDimensionCount> columns;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const DayKey key{static_cast<std::int32_t>(days[i]), codes[i]};
    const DayDelta& day = p.days.at(key);
    auto row = row_of.find(key);
    if (row == row_of.end()) return Fail(ErrorCode::kInternal, "postgres: day row vanished");
    for (std::size_t d = 0; d < core::kDimensionCount; ++d) {
      if (day.breakdowns[d].empty()) {
        columns[d].emplace_back(std::nullopt);
        continue;
      }
      core::Breakdown merged = ParseBreakdown(current->View(row->second, 2 + static_cast<int>(d)));
      core::MergeBreakdown(merged, day.breakdowns[d]);
      columns[d].emplace_back(FormatBreakdown(merged));
    }
  }
  std::array<Param, 2 + core::kDimensionCount> params;
  params[0] = Param(TextArray(codes));
  params[1] = Param(IntArray(days));
  for (std::size_t d = 0; d < core::kDimensionCount; ++d) {
    params[2 + d] = Param(TextArray(std::span<const std::optional<std::string>>(columns[d])));
  }
  return Done(c.Query(WriteBreakdownsSql(), std::span<const Param>(params)));
}

Result<void> AddToBuckets(Connection& c, const PreparedBatch& p, bool hours) {
  static const std::string minute_sql = AddToBucketsSql("minute_stats", "minute");
  static const std::string hour_sql = AddToBucketsSql("hourly_stats", "hour");
  // (code, start) order; within the batch each pair is unique (a bucket lies in one day).
  std::vector<std::pair<std::string_view, core::BucketCount>> buckets;
  for (const auto& [key, day] : p.days) {
    for (const core::BucketCount& b : hours ? day.hours : day.minutes) {
      buckets.emplace_back(key.second, b);
    }
  }
  if (buckets.empty()) return {};
  std::ranges::sort(buckets, [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.start < b.second.start;
  });
  std::vector<std::string> codes;
  std::vector<std::int64_t> starts, clicks, bots;
  for (const auto& [code, b] : buckets) {
    codes.emplace_back(code);
    starts.push_back(b.start);
    clicks.push_back(b.clicks);
    bots.push_back(b.bot_clicks);
  }
  return Done(c.Query(hours ? hour_sql : minute_sql, TextArray(codes), IntArray(starts),
                      IntArray(clicks), IntArray(bots)));
}

// Moves the batch's positions; conflict (the caller rolls back) when one of them is not at its
// `from`, with the offset stored now.
Result<void> MovePositions(Connection& c, const std::vector<core::PositionMove>& moves) {
  if (moves.empty()) return {};
  std::vector<std::string> streams;
  std::vector<std::int64_t> partitions, from, to;
  for (const core::PositionMove& move : moves) {
    streams.push_back(move.stream);
    partitions.push_back(move.partition);
    from.push_back(move.from);
    to.push_back(move.to);
  }
  Result<Rows> missed = c.Query(kMovePositions, TextArray(streams), IntArray(partitions),
                                IntArray(from), IntArray(to));
  if (!missed) return std::unexpected(std::move(missed.error()));
  if (missed->Size() == 0) return {};
  const core::PositionMove move{missed->Text(0, 0), static_cast<std::int32_t>(missed->Int(0, 1)),
                                missed->Int(0, 2), 0};
  // A new statement, so a new snapshot: it sees what the other consumer committed.
  Result<Rows> stored = c.Query(kReadPosition, move.stream, move.partition);
  if (!stored) return std::unexpected(std::move(stored.error()));
  if (stored->Size() == 0) {
    return Fail(ErrorCode::kConflict, "stream position of " + move.stream + " partition " +
                                          std::to_string(move.partition) +
                                          " is being moved by another consumer");
  }
  return std::unexpected(core::PositionConflict(move, stored->Int(0, 0)));
}

// Applies a prepared batch inside the open transaction; sets `applied` when it did.
Result<void> ApplyIn(Connection& c, const core::ClickBatch& batch, PreparedBatch& p,
                     core::Micros now, bool& applied) {
  applied = false;
  Result<Rows> marked = c.Query(MarkAppliedSql(), batch.id, now);
  if (!marked) return std::unexpected(std::move(marked.error()));
  if (marked->Affected() == 0) return {};  // applied before: change nothing
  // Positions first: a consumer that lost its partitions fails before it writes any counts.
  if (Result<void> r = MovePositions(c, batch.positions); !r) return r;

  // Visitors first: the day counts add the ones new to their day.
  {
    std::vector<std::string> codes, visitors;
    std::vector<std::int64_t> days;
    for (auto& [key, day] : p.days) {
      day.new_visitors = 0;
      for (const std::string& visitor : day.visitors) {
        days.push_back(key.first);
        codes.push_back(key.second);
        visitors.push_back(visitor);
      }
    }
    if (!visitors.empty()) {
      Result<Rows> added =
          c.Query(AddVisitorsSql(), TextArray(codes), IntArray(days), TextArray(visitors));
      if (!added) return std::unexpected(std::move(added.error()));
      for (int row = 0; row < added->Size(); ++row) {
        auto day =
            p.days.find(DayKey{static_cast<std::int32_t>(added->Int(row, 1)), added->Text(row, 0)});
        if (day != p.days.end()) ++day->second.new_visitors;
      }
    }
  }
  {
    std::vector<std::string> codes;
    std::vector<std::int64_t> days, clicks, bots, new_visitors;
    for (const auto& [key, day] : p.days) {
      if (day.clicks == 0 && day.bot_clicks == 0 && day.new_visitors == 0 && !day.has_breakdowns) {
        continue;
      }
      codes.push_back(key.second);
      days.push_back(key.first);
      clicks.push_back(day.clicks);
      bots.push_back(day.bot_clicks);
      new_visitors.push_back(day.new_visitors);
    }
    if (!codes.empty()) {
      Result<void> r = Done(c.Query(kAddToDays, TextArray(codes), IntArray(days), IntArray(clicks),
                                    IntArray(bots), IntArray(new_visitors)));
      if (!r) return r;
    }
  }
  if (Result<void> r = MergeBreakdowns(c, p); !r) return r;
  if (Result<void> r = AddToBuckets(c, p, /*hours=*/false); !r) return r;
  if (Result<void> r = AddToBuckets(c, p, /*hours=*/true); !r) return r;
  if (!p.links.empty()) {
    std::vector<std::string> codes;
    std::vector<std::int64_t> clicks, last;
    for (const auto& [code, link] : p.links) {
      codes.push_back(code);
      clicks.push_back(link.clicks);
      last.push_back(link.last_clicked_at);
    }
    Result<void> r =
        Done(c.Query(AddToLinksSql(), TextArray(codes), IntArray(clicks), IntArray(last)));
    if (!r) return r;
  }
  Result<void> r = Done(c.Query(ForgetOldSql(), now - kKeepAppliedBatches,
                                now - core::kMinuteRetention, now - core::kHourRetention));
  if (!r) return r;
  applied = true;
  return {};
}

}  // namespace

Result<bool> PostgresClickStore::Apply(const core::ClickBatch& batch) {
  return Guard([&]() -> Result<bool> {
    for (const core::ClickDelta& delta : batch.deltas) {
      if (std::optional<std::string> why = core::InvalidDelta(delta)) {
        return Fail(ErrorCode::kInvalidArgument, std::move(*why));
      }
    }
    if (std::optional<std::string> why = core::InvalidMoves(batch.positions)) {
      return Fail(ErrorCode::kInvalidArgument, std::move(*why));
    }
    PreparedBatch prepared = Prepare(batch);
    const core::Micros now = db_.Now();
    bool applied = false;
    Result<void> done = db_.Transaction(
        [&](Connection& c) -> Result<void> { return ApplyIn(c, batch, prepared, now, applied); });
    if (!done) return std::unexpected(std::move(done.error()));
    return applied;
  });
}

Result<std::vector<core::StreamPosition>> PostgresClickStore::Positions(std::string_view stream) {
  return Guard([&]() -> Result<std::vector<core::StreamPosition>> {
    return db_.Run([&](Connection& c) -> Result<std::vector<core::StreamPosition>> {
      Result<Rows> rows = c.Query(
          "SELECT partition, next_offset FROM stream_positions WHERE stream = $1"
          " ORDER BY partition",
          stream);
      if (!rows) return std::unexpected(std::move(rows.error()));
      std::vector<core::StreamPosition> positions;
      positions.reserve(static_cast<std::size_t>(rows->Size()));
      for (int row = 0; row < rows->Size(); ++row) {
        positions.push_back(
            core::StreamPosition{static_cast<std::int32_t>(rows->Int(row, 0)), rows->Int(row, 1)});
      }
      return positions;
    });
  });
}

Result<core::LinkStats> PostgresClickStore::Stats(std::string_view code, core::Date from,
                                                  core::Date to) {
  return Guard([&]() -> Result<core::LinkStats> {
    core::LinkStats stats;
    const std::int32_t first = std::max(from.days, kMinDay);
    const std::int32_t last = std::min(to.days, kMaxDay);
    if (first > last) return stats;
    static const std::string sql = [] {
      std::string s =
          "WITH visitors AS (SELECT count(DISTINCT visitor) AS n FROM daily_visitors"
          " WHERE short_code = $1 AND date BETWEEN " +
          DateParam(2) + " AND " + DateParam(3) + ") SELECT " + DaysOf("date") +
          ", click_count, unique_visitors, bot_clicks";
      for (std::string_view column : kBreakdownColumns) s += ", " + std::string(column) + "::text";
      s += ", (SELECT n FROM visitors) FROM daily_stats WHERE short_code = $1 AND date BETWEEN " +
           DateParam(2) + " AND " + DateParam(3) + " ORDER BY date";
      return s;
    }();
    return db_.Run([&](Connection& c) -> Result<core::LinkStats> {
      Result<Rows> rows = c.Query(sql, code, first, last);
      if (!rows) return std::unexpected(std::move(rows.error()));
      // The range's breakdowns are sums over its days without a cap, summed by value.
      std::array<std::unordered_map<std::string, std::int64_t>, core::kDimensionCount> sums;
      for (int row = 0; row < rows->Size(); ++row) {
        const core::DailyCount day{core::Date{static_cast<std::int32_t>(rows->Int(row, 0))},
                                   rows->Int(row, 1), rows->Int(row, 2), rows->Int(row, 3)};
        stats.daily.push_back(day);
        stats.total_clicks += day.clicks;
        stats.bot_clicks += day.bot_clicks;
        for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
          ForEachBreakdownValue(rows->View(row, 4 + static_cast<int>(i)),
                                [&sum = sums[i]](const std::string& value, std::int64_t clicks) {
                                  if (clicks != 0) sum[value] += clicks;
                                });
        }
        stats.unique_visitors = rows->Int(row, 4 + static_cast<int>(core::kDimensionCount));
      }
      for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
        core::Breakdown& b = stats.breakdowns[i];
        b.reserve(sums[i].size());
        for (auto& [value, clicks] : sums[i]) b.push_back(core::ValueCount{value, clicks});
        core::SortBreakdown(b);
      }
      return std::move(stats);
    });
  });
}

Result<std::vector<core::BucketCount>> PostgresClickStore::Series(std::string_view code,
                                                                  core::Granularity granularity,
                                                                  core::Micros from,
                                                                  core::Micros to) {
  return Guard([&]() -> Result<std::vector<core::BucketCount>> {
    std::vector<core::BucketCount> buckets;
    if (from >= to) return buckets;
    auto read = [&buckets](const Rows& rows, bool start_is_day) {
      for (int row = 0; row < rows.Size(); ++row) {
        core::BucketCount b{rows.Int(row, 0), rows.Int(row, 1), rows.Int(row, 2)};
        if (b.clicks == 0 && b.bot_clicks == 0) continue;
        if (start_is_day) b.start = core::StartOf(core::Date{static_cast<std::int32_t>(b.start)});
        buckets.push_back(b);
      }
    };
    if (granularity == core::Granularity::kDay) {
      // The days whose midnight lies in [from, to), clamped to the days a delta may have.
      std::int32_t first = DayOf(from);
      if (first < kMinDay) {
        first = kMinDay;
      } else if (core::StartOf(core::Date{first}) < from) {
        ++first;
      }
      const std::int32_t last = std::min(DayOf(to - 1), kMaxDay);
      if (first > last) return buckets;
      static const std::string sql = "SELECT " + DaysOf("date") +
                                     ", click_count, bot_clicks FROM daily_stats"
                                     " WHERE short_code = $1 AND date BETWEEN " +
                                     DateParam(2) + " AND " + DateParam(3) + " ORDER BY date";
      return db_.Run([&](Connection& c) -> Result<std::vector<core::BucketCount>> {
        Result<Rows> rows = c.Query(sql, code, first, last);
        if (!rows) return std::unexpected(std::move(rows.error()));
        read(*rows, true);
        return std::move(buckets);
      });
    }
    auto bucket_sql = [](std::string_view table, std::string_view column) {
      const std::string c(column);
      return "SELECT " + MicrosOf(c) + ", clicks, bot_clicks FROM " + std::string(table) +
             " WHERE short_code = $1 AND " + c + " >= " + Ts(2) + " AND " + c + " < " + Ts(3) +
             " ORDER BY " + c;
    };
    static const std::string minute_sql = bucket_sql("minute_stats", "minute");
    static const std::string hour_sql = bucket_sql("hourly_stats", "hour");
    const std::string* sql = nullptr;
    switch (granularity) {
      case core::Granularity::kMinute:
        sql = &minute_sql;
        break;
      case core::Granularity::kHour:
        sql = &hour_sql;
        break;
      default:
        return Fail(ErrorCode::kInvalidArgument, "series: unknown granularity");
    }
    // Buckets lie within the days a delta may have: clamp to them (timestamptz has a range).
    const core::Micros lowest = core::StartOf(core::Date{kMinDay});
    const core::Micros highest = core::StartOf(core::Date{kMaxDay + 1});
    from = std::clamp(from, lowest, highest);
    to = std::clamp(to, lowest, highest);
    if (from >= to) return buckets;
    return db_.Run([&](Connection& c) -> Result<std::vector<core::BucketCount>> {
      Result<Rows> rows = c.Query(*sql, code, from, to);
      if (!rows) return std::unexpected(std::move(rows.error()));
      read(*rows, false);
      return std::move(buckets);
    });
  });
}

}  // namespace kurz::adapters::postgres
