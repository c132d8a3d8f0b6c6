#include "adapters/clickhouse/raw_click_store.hpp"

#include <algorithm>
#include <charconv>

#include "adapters/clickhouse/tab_separated.hpp"
#include "core/guard.hpp"

namespace kurz::adapters::clickhouse {
namespace {

// 2100-01-01T00:00:00Z: DateTime (UInt32 seconds) and 18.16's Date table both end before 2106.
constexpr core::Micros kEndOfTime = 4'102'444'800LL * core::kMicrosPerSecond;
// Event ids per Find query: keeps each query far below max_query_size (256 KiB).
constexpr std::size_t kIdsPerQuery = 1000;
// Which ClickHouse errors mean "someone else created it first" in a CREATE ... IF NOT EXISTS race.
constexpr int kTableAlreadyExists = 57;
constexpr int kDatabaseAlreadyExists = 82;

template <class Fn>
auto Guard(Fn&& fn) noexcept -> decltype(fn()) {
  return core::Guarded("clickhouse raw click store", static_cast<Fn&&>(fn));
}

template <class Int>
void AppendInt(std::string& out, Int value) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

std::vector<std::string> SortedUnique(std::vector<std::string> values) {
  std::ranges::sort(values);
  const auto duplicates = std::ranges::unique(values);
  values.erase(duplicates.begin(), duplicates.end());
  return values;
}

void AppendInList(std::string& out, const std::string* begin, const std::string* end) {
  out += '(';
  for (const std::string* it = begin; it != end; ++it) {
    if (it != begin) out += ", ";
    AppendSqlString(out, *it);
  }
  out += ')';
}

template <class Int>
core::Result<Int> ParseInt(const std::string& text) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return core::Fail(core::ErrorCode::kInternal, "clickhouse: not an integer: '" + text + "'");
  }
  return value;
}

}  // namespace

namespace detail {

const std::string_view kInsertColumns =
    "event_id, ts, micros, day, code, visitor, bot, country, city, referrer, device, browser, os, "
    "user_agent, accept_language, kafka_partition, kafka_offset";

void AppendRow(std::string& out, const ports::RawClick& row) {
  const core::Micros seconds = row.at / core::kMicrosPerSecond;
  AppendTsvField(out, row.event_id);
  out += '\t';
  AppendInt(out, seconds);  // unix seconds: independent of the server's time zone
  out += '\t';
  AppendInt(out, row.at % core::kMicrosPerSecond);
  out += '\t';
  out += core::FormatDate(core::DateOf(row.at));
  for (const std::string* field : {&row.code, &row.visitor}) {
    out += '\t';
    AppendTsvField(out, *field);
  }
  out += row.bot ? "\t1" : "\t0";
  for (const std::string* field : {&row.country, &row.city, &row.referrer, &row.device,
                                   &row.browser, &row.os, &row.user_agent, &row.accept_language}) {
    out += '\t';
    AppendTsvField(out, *field);
  }
  out += '\t';
  AppendInt(out, row.partition);
  out += '\t';
  AppendInt(out, row.offset);
  out += '\n';
}

}  // namespace detail

ClickHouseRawClickStore::ClickHouseRawClickStore(const ClickHouseUrl& url, ClientOptions options)
    : client_(url, options), table_(url.database + ".clicks") {}

Result<std::unique_ptr<ClickHouseRawClickStore>> ClickHouseRawClickStore::Open(
    const ClickHouseUrl& url, ClientOptions options) {
  return Guard([&]() -> Result<std::unique_ptr<ClickHouseRawClickStore>> {
    // Validates a hand-made ClickHouseUrl as strictly as one parsed from text.
    auto checked = ParseClickHouseUrl(ToString(url));
    if (!checked) return std::unexpected(std::move(checked.error()));
    return std::make_unique<ClickHouseRawClickStore>(url, options);
  });
}

Result<void> ClickHouseRawClickStore::EnsureSchema() {
  return Guard([&]() -> Result<void> {
    const std::string& database = client_.url().database;
    const std::string statements[] = {
        "CREATE DATABASE IF NOT EXISTS " + database,
        "CREATE TABLE IF NOT EXISTS " + table_ +
            " (event_id String, ts DateTime, micros UInt32, day Date, code String, "
            "visitor String, bot UInt8, country String, city String, referrer String, "
            "device String, browser String, os String, user_agent String, "
            "accept_language String, kafka_partition Int32, kafka_offset Int64) "
            "ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(day) "
            "ORDER BY (code, ts, event_id)",
    };
    for (const std::string& statement : statements) {
      auto done = client_.Query(statement);
      if (done) continue;
      // IF NOT EXISTS checks and creates in two steps: a concurrent creator may win between.
      const int code = ClickHouseErrorCode(done.error().detail);
      if (code == kTableAlreadyExists || code == kDatabaseAlreadyExists) continue;
      return std::unexpected(std::move(done.error()));
    }
    return {};
  });
}

Result<void> ClickHouseRawClickStore::Insert(const std::vector<ports::RawClick>& rows) {
  return Guard([&]() -> Result<void> {
    if (rows.empty()) return {};
    std::string body;
    body.reserve(rows.size() * 320);
    for (const ports::RawClick& row : rows) {
      if (row.at < 0 || row.at >= kEndOfTime) {
        return core::Fail(core::ErrorCode::kInvalidArgument,
                          "raw click " + row.event_id + ": time " + std::to_string(row.at) +
                              " is outside 1970-01-01..2100-01-01");
      }
      detail::AppendRow(body, row);
    }
    const std::string statement = "INSERT INTO " + table_ + " (" +
                                  std::string(detail::kInsertColumns) + ") FORMAT TabSeparated";
    // One block, so one part per month: ClickHouse splits bigger inputs into several inserts.
    const std::string settings =
        "max_insert_block_size=" + std::to_string(std::max<std::size_t>(rows.size(), 1 << 20));
    return client_.Insert(statement, std::move(body), settings);
  });
}

Result<std::vector<ports::StoredEvent>> ClickHouseRawClickStore::Find(
    const std::vector<std::string>& codes, const std::vector<std::string>& event_ids) {
  return Guard([&]() -> Result<std::vector<ports::StoredEvent>> {
    std::vector<ports::StoredEvent> found;
    if (codes.empty() || event_ids.empty()) return found;
    const std::vector<std::string> code_set = SortedUnique(codes);
    const std::vector<std::string> id_set = SortedUnique(event_ids);
    std::string code_list;
    AppendInList(code_list, code_set.data(), code_set.data() + code_set.size());

    for (std::size_t first = 0; first < id_set.size(); first += kIdsPerQuery) {
      const std::size_t last = std::min(id_set.size(), first + kIdsPerQuery);
      std::string sql = "SELECT event_id, kafka_partition, kafka_offset FROM " + table_ +
                        " WHERE code IN " + code_list + " AND event_id IN ";
      AppendInList(sql, id_set.data() + first, id_set.data() + last);
      sql += " FORMAT TabSeparated";
      // Many codes can still make a long query: let the parser take what we send.
      const std::string settings = "max_query_size=" + std::to_string(sql.size() + 4096);
      auto answer = client_.Query(sql, settings);
      if (!answer) return std::unexpected(std::move(answer.error()));
      auto rows = ParseTabSeparated(*answer, 3);
      if (!rows) return std::unexpected(std::move(rows.error()));
      for (std::vector<std::string>& row : *rows) {
        auto partition = ParseInt<std::int32_t>(row[1]);
        if (!partition) return std::unexpected(std::move(partition.error()));
        auto offset = ParseInt<std::int64_t>(row[2]);
        if (!offset) return std::unexpected(std::move(offset.error()));
        found.push_back(ports::StoredEvent{std::move(row[0]), *partition, *offset});
      }
    }
    return found;
  });
}

Result<std::int64_t> ClickHouseRawClickStore::Count(const std::string& code, core::Micros from,
                                                    core::Micros to) {
  return Guard([&]() -> Result<std::int64_t> {
    // Nothing is stored outside [0, kEndOfTime): clamp so that every bound has a DateTime.
    from = std::clamp<core::Micros>(from, 0, kEndOfTime);
    to = std::clamp<core::Micros>(to, 0, kEndOfTime);
    if (from >= to) return 0;
    const core::Micros last = to - 1;  // inclusive
    std::string sql = "SELECT uniqExact(event_id) FROM " + table_ + " WHERE code = ";
    AppendSqlString(sql, code);
    // Whole days and seconds first (partition pruning, the primary key), then the exact
    // microsecond bounds on ts * 10^6 + micros.
    sql += " AND day >= toDate('" + core::FormatDate(core::DateOf(from)) + "')";
    sql += " AND day <= toDate('" + core::FormatDate(core::DateOf(last)) + "')";
    sql += " AND ts >= toDateTime(" + std::to_string(from / core::kMicrosPerSecond) + ")";
    sql += " AND ts <= toDateTime(" + std::to_string(last / core::kMicrosPerSecond) + ")";
    sql += " AND toUInt64(ts) * 1000000 + micros >= " + std::to_string(from);
    sql += " AND toUInt64(ts) * 1000000 + micros < " + std::to_string(to);
    sql += " FORMAT TabSeparated";
    auto answer = client_.Query(sql);
    if (!answer) return std::unexpected(std::move(answer.error()));
    auto rows = ParseTabSeparated(*answer, 1);
    if (!rows) return std::unexpected(std::move(rows.error()));
    if (rows->size() != 1) {
      return core::Fail(core::ErrorCode::kInternal, "clickhouse: expected one row from a count");
    }
    return ParseInt<std::int64_t>((*rows)[0][0]);
  });
}

}  // namespace kurz::adapters::clickhouse
