#include "adapters/clickhouse/clickhouse_test_support.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <stdexcept>

#include "adapters/clickhouse/client.hpp"
#include "adapters/clickhouse/tab_separated.hpp"

namespace kurz::testing {
namespace {

using adapters::clickhouse::ClickHouseUrl;

template <class Int>
Int ToInt(const std::string& text) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::runtime_error("not an integer: " + text);
  }
  return value;
}

}  // namespace

ClickHouseUrl ClickHouseTestUrl() {
  const char* value = std::getenv("KURZ_TEST_CLICKHOUSE_URL");
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(
        "KURZ_TEST_CLICKHOUSE_URL is not set: start the test server with "
        "`scripts/services/clickhouse start` and "
        "`export KURZ_TEST_CLICKHOUSE_URL=$(scripts/services/clickhouse url)`");
  }
  auto url = adapters::clickhouse::ParseClickHouseUrl(value);
  if (!url) throw std::runtime_error(url.error().detail);
  return *url;
}

ClickHouseUrl FreshDatabaseUrl() {
  static std::atomic<int> counter{0};
  ClickHouseUrl url = ClickHouseTestUrl();
  url.database += "_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
  return url;
}

std::string RunClickHouse(const ClickHouseUrl& url, const std::string& sql) {
  adapters::clickhouse::ClickHouseClient client(url);
  auto answer = client.Query(sql);
  if (!answer) throw std::runtime_error(sql + ": " + answer.error().detail);
  return *answer;
}

std::vector<ports::RawClick> ReadRawClicks(const ClickHouseUrl& url, const std::string& table,
                                           const std::string& code) {
  const std::string answer = RunClickHouse(
      url,
      "SELECT event_id, toUInt32(ts), micros, code, visitor, bot, country, city, referrer, "
      "device, browser, os, user_agent, accept_language, kafka_partition, kafka_offset, "
      "toUInt32(toDate(ts)) = toUInt32(day) FROM " +
          table + " WHERE code = " + adapters::clickhouse::SqlString(code) +
          " FORMAT TabSeparated");
  auto rows = adapters::clickhouse::ParseTabSeparated(answer, 17);
  if (!rows) throw std::runtime_error(rows.error().detail);
  std::vector<ports::RawClick> clicks;
  for (std::vector<std::string>& f : *rows) {
    if (f[16] != "1") throw std::runtime_error("day is not the UTC date of ts: " + f[0]);
    ports::RawClick click;
    click.event_id = f[0];
    click.at = ToInt<std::int64_t>(f[1]) * core::kMicrosPerSecond + ToInt<std::int64_t>(f[2]);
    click.code = f[3];
    click.visitor = f[4];
    click.bot = f[5] == "1";
    click.country = f[6];
    click.city = f[7];
    click.referrer = f[8];
    click.device = f[9];
    click.browser = f[10];
    click.os = f[11];
    click.user_agent = f[12];
    click.accept_language = f[13];
    click.partition = ToInt<std::int32_t>(f[14]);
    click.offset = ToInt<std::int64_t>(f[15]);
    clicks.push_back(std::move(click));
  }
  return clicks;
}

ClickHouseRawClicks::ClickHouseRawClicks() : url_(FreshDatabaseUrl()) {
  auto store = adapters::clickhouse::ClickHouseRawClickStore::Open(url_);
  if (!store) throw std::runtime_error("open: " + store.error().detail);
  store_ = std::move(*store);
  if (auto schema = store_->EnsureSchema(); !schema) {
    throw std::runtime_error("schema: " + schema.error().detail);
  }
  RunClickHouse(url_, "SYSTEM STOP MERGES " + store_->table());
}

ClickHouseRawClicks::~ClickHouseRawClicks() {
  adapters::clickhouse::ClickHouseClient client(url_);
  (void)client.Query("DROP DATABASE IF EXISTS " + url_.database);
}

std::vector<ports::RawClick> ClickHouseRawClicks::StoredRows(const std::string& code) {
  return ReadRawClicks(url_, store_->table(), code);
}

}  // namespace kurz::testing
