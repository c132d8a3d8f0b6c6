// ClickHouse-only behaviour of the raw click store: URLs, the TabSeparated encoding, errors from
// the server, an unreachable or silent server, schema races, and insert throughput.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/clickhouse/clickhouse_test_support.hpp"
#include "adapters/clickhouse/client.hpp"
#include "adapters/clickhouse/raw_click_store.hpp"
#include "adapters/clickhouse/tab_separated.hpp"
#include "adapters/contract/helpers.hpp"
#include "adapters/contract/raw_click_store_contract.hpp"

namespace kurz::testing {
namespace {

using adapters::clickhouse::ClickHouseClient;
using adapters::clickhouse::ClickHouseRawClickStore;
using adapters::clickhouse::ClickHouseUrl;
using adapters::clickhouse::ClientOptions;
using adapters::clickhouse::ParseClickHouseUrl;
using Clock = std::chrono::steady_clock;

// A TCP socket on 127.0.0.1 bound to a free port; listening (connections wait in the backlog,
// never answered) or not (connections are refused). Closed when destroyed.
class LocalSocket {
 public:
  explicit LocalSocket(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0 ||
        (listen && ::listen(fd_, 16) != 0)) {
      throw std::runtime_error("cannot bind a local socket");
    }
    port_ = ntohs(address.sin_port);
  }
  ~LocalSocket() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST(ClickHouseUrlTest, ParsesHostPortAndDatabase) {
  auto url = ParseClickHouseUrl("clickhouse://127.0.0.1:8123/kurz");
  ASSERT_TRUE(url) << Describe(url);
  EXPECT_EQ(*url, (ClickHouseUrl{"127.0.0.1", 8123, "kurz"}));
  EXPECT_EQ(*ParseClickHouseUrl("clickhouse://ch-1.example.org:18123/Kurz_2"),
            (ClickHouseUrl{"ch-1.example.org", 18123, "Kurz_2"}));
  EXPECT_EQ(*ParseClickHouseUrl("clickhouse://[::1]:8123/kurz"),
            (ClickHouseUrl{"::1", 8123, "kurz"}));
  EXPECT_EQ(adapters::clickhouse::ToString(ClickHouseUrl{"::1", 8123, "kurz"}),
            "clickhouse://[::1]:8123/kurz");
}

TEST(ClickHouseUrlTest, RejectsAnythingElseWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "scheme"},
      {"http://127.0.0.1:8123/kurz", "scheme"},
      {"ClickHouse://127.0.0.1:8123/kurz", "scheme"},
      {"clickhouse://", "missing /database"},
      {"clickhouse://127.0.0.1:8123", "missing /database"},
      {"clickhouse://127.0.0.1:8123/", "missing database name"},
      {"clickhouse://127.0.0.1/kurz", "missing :port"},
      {"clickhouse://127.0.0.1:/kurz", "invalid port"},
      {"clickhouse://127.0.0.1:0/kurz", "invalid port"},
      {"clickhouse://127.0.0.1:65536/kurz", "invalid port"},
      {"clickhouse://127.0.0.1:80a/kurz", "invalid port"},
      {"clickhouse://127.0.0.1:-1/kurz", "invalid port"},
      {"clickhouse://:8123/kurz", "missing host"},
      {"clickhouse://ho st:8123/kurz", "invalid host"},
      {"clickhouse://[::1/kurz", "unclosed"},
      {"clickhouse://[::1]/kurz", "missing :port"},
      {"clickhouse://user:pw@127.0.0.1:8123/kurz", "credentials"},
      {"clickhouse://127.0.0.1:8123/kurz?x=1", "query"},
      {"clickhouse://127.0.0.1:8123/kurz#x", "fragment"},
      {"clickhouse://127.0.0.1:8123/ku-rz", "invalid database name"},
      {"clickhouse://127.0.0.1:8123/kurz/clicks", "invalid database name"},
      {"clickhouse://127.0.0.1:8123/kurz;DROP", "invalid database name"},
      {"clickhouse://127.0.0.1:8123/kürz", "invalid database name"},
  };
  for (const auto& [text, reason] : cases) {
    auto url = ParseClickHouseUrl(text);
    ASSERT_FALSE(url) << text;
    EXPECT_EQ(url.error().code, core::ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(url.error().detail.find(reason), std::string::npos)
        << text << " -> " << url.error().detail;
  }
  ClickHouseUrl bad{"127.0.0.1", 8123, "no-dashes"};
  auto store = ClickHouseRawClickStore::Open(bad);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(TabSeparatedTest, EveryByteRoundTrips) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  const std::vector<std::string> fields = {every_byte, "", "\\", "\t\n", "a\\tb", "x\\"};
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += '\t';
    adapters::clickhouse::AppendTsvField(line, fields[i]);
  }
  line += '\n';
  EXPECT_EQ(line.find('\t', 0) > 0, true);
  auto rows = adapters::clickhouse::ParseTabSeparated(line + line, fields.size());
  ASSERT_TRUE(rows) << Describe(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0], fields);
  EXPECT_EQ((*rows)[1], fields);
}

TEST(TabSeparatedTest, ReadsClickHouseEscapes) {
  auto rows = adapters::clickhouse::ParseTabSeparated("a\\'b\\x41\\N\\0\\a\\v\tc\n", 2);
  ASSERT_TRUE(rows) << Describe(rows);
  EXPECT_EQ((*rows)[0][0], std::string("a'bAN\0\a\v", 8));
  auto wrong = adapters::clickhouse::ParseTabSeparated("a\tb\n", 3);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, core::ErrorCode::kInternal);
}

TEST(TabSeparatedTest, SqlStringsEscapeQuotesAndBackslashes) {
  EXPECT_EQ(adapters::clickhouse::SqlString("it's a \\ \n"), "'it\\'s a \\\\ \\n'");
}

TEST(ClickHouseStoreTest, OpenContactsNothing) {
  const ClickHouseUrl url = FreshDatabaseUrl();
  auto store = ClickHouseRawClickStore::Open(url);
  ASSERT_TRUE(store) << Describe(store);
  EXPECT_EQ(RunClickHouse(
                url, "SELECT count() FROM system.databases WHERE name = '" + url.database + "'"),
            "0\n");
  // Before EnsureSchema: ClickHouse's own message, as not_found.
  auto count = (*store)->Count("abc", 0, kT0);
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code, core::ErrorCode::kNotFound) << count.error().detail;
  EXPECT_NE(count.error().detail.find("Code: 81"), std::string::npos) << count.error().detail;
  EXPECT_NE(count.error().detail.find(url.database), std::string::npos) << count.error().detail;
  auto insert = (*store)->Insert({NewRawClick(EventId(1), "abc", kT0)});
  ASSERT_FALSE(insert);
  EXPECT_EQ(insert.error().code, core::ErrorCode::kNotFound) << insert.error().detail;
}

TEST(ClickHouseStoreTest, ServerErrorsCarryClickHousesMessage) {
  ClickHouseClient client(ClickHouseTestUrl());
  auto answer = client.Query("SELEC 1");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(answer.error().detail.find("Code: 62"), std::string::npos) << answer.error().detail;
  EXPECT_NE(answer.error().detail.find("Syntax error"), std::string::npos) << answer.error().detail;
  // The connection stays usable after an error.
  auto ok = client.Query("SELECT 1");
  ASSERT_TRUE(ok) << Describe(ok);
  EXPECT_EQ(*ok, "1\n");
}

TEST(ClickHouseStoreTest, IdleConnectionsClosedByTheServerAreReplaced) {
  // scripts/services/clickhouse sets keep_alive_timeout to 1 s: after 1.3 s the pooled
  // connection is closed on the server's side but still young enough for the pool to try it.
  ClickHouseClient client(ClickHouseTestUrl());
  for (int i = 0; i < 3; ++i) {
    auto answer = client.Query("SELECT 1");
    ASSERT_TRUE(answer) << Describe(answer);
    EXPECT_EQ(*answer, "1\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  }
  auto insert = client.Insert("INSERT INTO system.nonexistent FORMAT TabSeparated", "x\n");
  ASSERT_FALSE(insert);
  EXPECT_EQ(insert.error().code, core::ErrorCode::kNotFound) << insert.error().detail;
}

TEST(ClickHouseStoreTest, ServerDownIsUnavailableQuickly) {
  const LocalSocket closed(false);  // bound, not listening: connections are refused
  auto store = ClickHouseRawClickStore::Open(ClickHouseUrl{"127.0.0.1", closed.port(), "kurz"});
  ASSERT_TRUE(store) << Describe(store);
  const auto start = Clock::now();
  auto schema = (*store)->EnsureSchema();
  auto insert = (*store)->Insert({NewRawClick(EventId(1), "abc", kT0)});
  auto find = (*store)->Find({"abc"}, {EventId(1)});
  auto count = (*store)->Count("abc", 0, kT0);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(schema);
  EXPECT_EQ(schema.error().code, core::ErrorCode::kUnavailable) << schema.error().detail;
  EXPECT_NE(schema.error().detail.find("refused"), std::string::npos) << schema.error().detail;
  ASSERT_FALSE(insert);
  EXPECT_EQ(insert.error().code, core::ErrorCode::kUnavailable);
  ASSERT_FALSE(find);
  EXPECT_EQ(find.error().code, core::ErrorCode::kUnavailable);
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code, core::ErrorCode::kUnavailable);
}

TEST(ClickHouseStoreTest, SilentServerTimesOut) {
  const LocalSocket silent(true);  // accepts into the backlog, never answers
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(300);
  auto store =
      ClickHouseRawClickStore::Open(ClickHouseUrl{"127.0.0.1", silent.port(), "kurz"}, options);
  ASSERT_TRUE(store) << Describe(store);
  const auto start = Clock::now();
  auto count = (*store)->Count("abc", 0, kT0);
  const auto took = Clock::now() - start;
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code, core::ErrorCode::kTimeout) << count.error().detail;
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(ClickHouseStoreTest, ConcurrentEnsureSchemaFromSeveralStores) {
  for (int round = 0; round < 3; ++round) {
    const ClickHouseUrl url = FreshDatabaseUrl();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        auto store = ClickHouseRawClickStore::Open(url);  // as another process would
        ASSERT_TRUE(store);
        auto schema = (*store)->EnsureSchema();
        EXPECT_TRUE(schema) << Describe(schema);
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(RunClickHouse(url, "SELECT count() FROM " + url.database + ".clicks"), "0\n");
    RunClickHouse(url, "DROP DATABASE IF EXISTS " + url.database);
  }
}

TEST(ClickHouseStoreTest, InsertsTenThousandRowsInOneRequest) {
  ClickHouseRawClicks backend;
  std::vector<ports::RawClick> rows;
  for (int i = 0; i < 10'000; ++i) {
    auto row = NewRawClick(EventId(i), Numbered("c", i % 50), kT0 + i * 7'919LL, i);
    row.user_agent += Numbered(" tab\there \\ ", i);
    rows.push_back(std::move(row));
  }
  ASSERT_TRUE(backend.Store().Insert(rows));  // warm: connection, table
  ClickHouseRawClicks timed;
  const auto start = Clock::now();
  auto done = timed.Store().Insert(rows);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_TRUE(done) << Describe(done);
  std::printf("[ insert   ] 10000 rows in %.1f ms: %.0f rows/s\n", seconds * 1000,
              10'000 / seconds);
  RecordProperty("rows_per_second", static_cast<int>(10'000 / seconds));
  EXPECT_EQ(RunClickHouse(timed.url(), "SELECT count(), uniqExact(event_id) FROM " +
                                           timed.url().database + ".clicks"),
            "10000\t10000\n");
  auto count = timed.Store().Count("c7", kT0, kT0 + 10'000 * 7'919LL);
  ASSERT_TRUE(count) << Describe(count);
  EXPECT_EQ(*count, 200);
}

}  // namespace
}  // namespace kurz::testing
