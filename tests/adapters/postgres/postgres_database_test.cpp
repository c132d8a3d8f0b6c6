// PostgreSQL-only behaviour: URLs, migrations, click partitions, the connection pool, and what
// must hold between several instances (pools) on one database. Needs KURZ_TEST_POSTGRES_URL.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/click_store_contract.hpp"
#include "adapters/contract/helpers.hpp"
#include "adapters/postgres/account_store.hpp"
#include "adapters/postgres/click_store.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/database.hpp"
#include "adapters/postgres/link_store.hpp"
#include "adapters/postgres/migrations.hpp"
#include "adapters/postgres/test_schema.hpp"

namespace kurz::testing {
namespace {

using adapters::postgres::Connection;
using adapters::postgres::PostgresAccountStore;
using adapters::postgres::PostgresClickStore;
using adapters::postgres::PostgresDatabase;
using adapters::postgres::PostgresLinkStore;
using adapters::postgres::PostgresOptions;
using adapters::postgres::RedactUrl;

constexpr int kLatestVersion = 7;

class PostgresDatabaseTest : public ::testing::Test {
 protected:
  std::unique_ptr<PostgresDatabase> OpenDb(PostgresOptions options = {}) {
    auto db = PostgresDatabase::Open(schema_.Url(), options);
    EXPECT_TRUE(db) << Describe(db);
    return db ? std::move(*db) : nullptr;
  }
  std::unique_ptr<PostgresDatabase> OpenMigrated(PostgresOptions options = {}) {
    auto db = OpenDb(options);
    if (db) {
      auto migrated = db->Migrate();
      EXPECT_TRUE(migrated) << Describe(migrated);
    }
    return db;
  }

  // The first column of the first row of sql, run in the test's schema.
  static core::Result<std::string> Text(PostgresDatabase& db, const std::string& sql) {
    return db.Run([&](Connection& c) -> core::Result<std::string> {
      auto rows = c.Query(sql);
      if (!rows) return std::unexpected(rows.error());
      if (rows->Size() == 0) return core::Fail(core::ErrorCode::kNotFound, "no row: " + sql);
      return rows->Text(0, 0);
    });
  }

  static core::Result<int> Pid(PostgresDatabase& db) {
    return db.Run([](Connection& c) -> core::Result<int> { return c.BackendPid(); });
  }

  // Ends a backend and waits until it is gone.
  void Terminate(int pid) {
    auto ended = schema_.Text("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)");
    ASSERT_TRUE(ended) << Describe(ended);
    EXPECT_EQ(*ended, "t");
  }

  PostgresTestSchema schema_;
};

// The name of the month partition of `months` after the one t lies in, e.g. "clicks_2026_11".
std::string PartitionName(core::Micros t, int months) {
  using namespace std::chrono;
  const year_month_day day{sys_days{days{core::DateOf(t).days}}};
  const year_month ym = year_month{day.year(), day.month()} + std::chrono::months{months};
  char name[32];
  std::snprintf(name, sizeof name, "clicks_%04d_%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return name;
}

TEST(PostgresUrl, PasswordsAreRedacted) {
  EXPECT_EQ(RedactUrl("postgres://kurz:s3cret@db:5432/kurz"), "postgres://kurz:***@db:5432/kurz");
  EXPECT_EQ(RedactUrl("postgresql://kurz@db/kurz"), "postgresql://kurz@db/kurz");
  EXPECT_EQ(RedactUrl("postgres://u:p@a:1,b:2/d?target_session_attrs=read-write"),
            "postgres://u:***@a:1,b:2/d?target_session_attrs=read-write");
  EXPECT_EQ(RedactUrl("postgres://db/kurz?user=u&password=s3cret&sslmode=require"),
            "postgres://db/kurz?user=u&password=***&sslmode=require");
}

TEST(PostgresUrl, AnotherSchemeOrABadUrlIsInvalidArgument) {
  for (const char* url : {"mysql://u:s3cret@localhost/db", "sqlite:///tmp/x.db", "",
                          "postgres://u:s3cret@localhost/db?no_such_parameter=1"}) {
    auto db = PostgresDatabase::Open(url);
    ASSERT_FALSE(db) << url;
    EXPECT_EQ(db.error().code, core::ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(db.error().detail.find("s3cret"), std::string::npos) << db.error().detail;
  }
}

TEST(PostgresUrl, AnUnreachableServerIsUnavailableQuicklyWithThePasswordRedacted) {
  const auto start = std::chrono::steady_clock::now();
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto db = PostgresDatabase::Open("postgres://kurz:s3cret@127.0.0.1:1/kurz");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(db.error().detail.find("s3cret"), std::string::npos) << db.error().detail;
  EXPECT_NE(db.error().detail.find("kurz:***@127.0.0.1:1"), std::string::npos) << db.error().detail;
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(PostgresUrl, WithoutConnectOnOpenAServerThatIsDownFailsOnlyItsCalls) {
  PostgresDatabase::Options options;
  options.connect_on_open = false;  // a read replica that may come up later
  auto db = PostgresDatabase::Open("postgres://kurz:s3cret@127.0.0.1:1/kurz", options);
  ASSERT_TRUE(db) << db.error().detail;
  EXPECT_EQ((*db)->OpenConnections(), 0);
  auto ping = (*db)->Ping();
  ASSERT_FALSE(ping);
  EXPECT_EQ(ping.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ((*db)->OpenConnections(), 0);
  // The URL is still checked at once.
  auto bad = PostgresDatabase::Open("postgres://h/db?nonsense=1", options);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidArgument);
}

TEST_F(PostgresDatabaseTest, AMultiHostUrlConnectsToTheHostThatAnswers) {
  // The server's URL with a dead host (port 1) in front of the real one.
  std::string url = schema_.Url();
  const std::size_t at = url.find('@');
  const std::size_t host = at != std::string::npos ? at + 1 : url.find("://") + 3;
  url.insert(host, "127.0.0.1:1,");
  url = WithParam(url, "target_session_attrs=read-write");
  auto db = PostgresDatabase::Open(url);
  ASSERT_TRUE(db) << Describe(db);
  auto migrated = (*db)->Migrate();
  ASSERT_TRUE(migrated) << Describe(migrated);
  EXPECT_EQ(*migrated, kLatestVersion);
  EXPECT_TRUE((*db)->Ping());
}

TEST_F(PostgresDatabaseTest, MigrateAppliesEveryStepOnceAndRecordsIt) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(*db->SchemaVersion(), 0);
  auto first = db->Migrate();
  ASSERT_TRUE(first) << Describe(first);
  EXPECT_EQ(*first, kLatestVersion);
  EXPECT_EQ(static_cast<int>(adapters::postgres::Migrations().size()), kLatestVersion);
  auto again = db->Migrate();
  ASSERT_TRUE(again) << Describe(again);
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(*db->SchemaVersion(), kLatestVersion);
  EXPECT_EQ(*Text(*db, "SELECT count(*) FROM schema_migrations"), std::to_string(kLatestVersion));
  // The tables landed in the test's schema, and the seed's tables are all there.
  for (const char* table : {"users", "api_keys", "urls", "clicks", "daily_stats", "counters",
                            "settings", "daily_visitors", "minute_stats", "hourly_stats",
                            "applied_click_batches", "stream_positions"}) {
    auto found = schema_.Text("SELECT to_regclass('" + schema_.Name() + "." + table + "')");
    ASSERT_TRUE(found) << table << ": " << Describe(found);
    EXPECT_FALSE(found->empty()) << table;
  }
}

TEST_F(PostgresDatabaseTest, ConcurrentMigrationsFromSeveralInstancesApplyEachStepOnce) {
  constexpr int kInstances = 4;
  std::vector<std::unique_ptr<PostgresDatabase>> dbs;
  for (int i = 0; i < kInstances; ++i) dbs.push_back(OpenDb());
  std::atomic<int> applied{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (auto& db : dbs) {
    threads.emplace_back([&, raw = db.get()] {
      auto n = raw->Migrate();
      if (n) {
        applied += *n;
      } else {
        ++failed;
        ADD_FAILURE() << Describe(n);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(applied.load(), kLatestVersion);
  EXPECT_EQ(*dbs[0]->SchemaVersion(), kLatestVersion);
  // Three partitions, each created once.
  auto partitions =
      Text(*dbs[0], "SELECT count(*) FROM pg_inherits WHERE inhparent = 'clicks'::regclass");
  ASSERT_TRUE(partitions) << Describe(partitions);
  EXPECT_EQ(*partitions, "3");
}

TEST_F(PostgresDatabaseTest, ANewerSchemaThanThisBinaryKnowsIsRefused) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  ASSERT_TRUE(Text(*db,
                   "INSERT INTO schema_migrations (version, name) VALUES (99, 'future')"
                   " RETURNING version"));
  auto migrated = db->Migrate();
  ASSERT_FALSE(migrated);
  EXPECT_EQ(migrated.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(migrated.error().detail.find("newer"), std::string::npos) << migrated.error().detail;
}

TEST_F(PostgresDatabaseTest, ClickPartitionsAreCreatedAheadAndIdempotently) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  const core::Micros now = Now();
  for (int month = 0; month < 3; ++month) {
    auto found = Text(*db, "SELECT to_regclass('" + PartitionName(now, month) + "') IS NOT NULL");
    ASSERT_TRUE(found) << Describe(found);
    EXPECT_EQ(*found, "t") << PartitionName(now, month);
  }
  auto none = db->EnsureClickPartitions(now);
  ASSERT_TRUE(none) << Describe(none);
  EXPECT_EQ(*none, 0);

  // Half a year on: three new months, created once even by concurrent callers.
  const core::Micros later = now + 190 * kDay;
  auto other = OpenDb();
  ASSERT_TRUE(other);
  std::atomic<int> created{0};
  std::thread a([&] {
    auto n = db->EnsureClickPartitions(later);
    EXPECT_TRUE(n) << Describe(n);
    if (n) created += *n;
  });
  std::thread b([&] {
    auto n = other->EnsureClickPartitions(later);
    EXPECT_TRUE(n) << Describe(n);
    if (n) created += *n;
  });
  a.join();
  b.join();
  EXPECT_EQ(created.load(), 3);
  EXPECT_EQ(*db->EnsureClickPartitions(later), 0);
  EXPECT_EQ(*Text(*db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'clicks'::regclass"),
            std::to_string(3 + 3));

  // A click lands in its month's partition.
  auto routed = Text(*db,
                     "INSERT INTO clicks (event_id, short_code, clicked_at) VALUES ('e1', 'abc',"
                     " NOW()) RETURNING tableoid::regclass::text");
  ASSERT_TRUE(routed) << Describe(routed);
  EXPECT_EQ(*routed, PartitionName(now, 0));
}

TEST_F(PostgresDatabaseTest, EnsureClickPartitionsBeforeMigrateIsAnError) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  auto created = db->EnsureClickPartitions(Now());
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, core::ErrorCode::kInternal);
}

TEST_F(PostgresDatabaseTest, AConnectionEndedByTheServerWhileIdleIsReplaced) {
  PostgresOptions options;
  options.max_connections = 1;
  auto db = OpenMigrated(options);
  ASSERT_TRUE(db);
  PostgresLinkStore links(*db);
  auto before = Pid(*db);
  ASSERT_TRUE(before) << Describe(before);
  Terminate(*before);

  // The next call gets a new connection and works.
  auto lease = links.LeaseCodeBlock(10);
  ASSERT_TRUE(lease) << Describe(lease);
  EXPECT_EQ(*lease, 0u);
  auto after = Pid(*db);
  ASSERT_TRUE(after);
  EXPECT_NE(*after, *before);
  EXPECT_EQ(db->OpenConnections(), 1);
}

TEST_F(PostgresDatabaseTest, AConnectionLostDuringACallFailsThatCallAsUnavailableOnly) {
  PostgresOptions options;
  options.max_connections = 1;
  auto db = OpenMigrated(options);
  ASSERT_TRUE(db);
  std::atomic<int> pid{0};
  std::thread slow_call([&] {
    auto slept = db->Run([&](Connection& c) -> core::Result<void> {
      pid = c.BackendPid();
      auto rows = c.Query("SELECT pg_sleep(30)");
      if (!rows) return std::unexpected(rows.error());
      return {};
    });
    ASSERT_FALSE(slept);
    EXPECT_EQ(slept.error().code, core::ErrorCode::kUnavailable) << Describe(slept);
  });
  // Wait until the call is running, then end its backend.
  for (int i = 0; i < 500; ++i) {
    if (pid != 0) {
      auto state = schema_.Text("SELECT state FROM pg_stat_activity WHERE pid = " +
                                std::to_string(pid.load()));
      if (state && *state == "active") break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(pid.load(), 0);
  Terminate(pid);
  slow_call.join();

  EXPECT_EQ(db->OpenConnections(), 0);  // dropped, not pooled
  EXPECT_TRUE(db->Ping());
  EXPECT_EQ(db->OpenConnections(), 1);
}

TEST_F(PostgresDatabaseTest, ThePoolIsBoundedAndAWaitForAConnectionTimesOut) {
  PostgresOptions options;
  options.max_connections = 2;
  options.acquire_timeout = std::chrono::milliseconds(200);
  auto db = OpenMigrated(options);
  ASSERT_TRUE(db);
  std::atomic<int> busy{0};
  std::vector<std::thread> sleepers;
  for (int i = 0; i < 2; ++i) {
    sleepers.emplace_back([&] {
      auto slept = db->Run([&](Connection& c) -> core::Result<void> {
        ++busy;
        auto rows = c.Query("SELECT pg_sleep(1.5)");
        if (!rows) return std::unexpected(rows.error());
        return {};
      });
      EXPECT_TRUE(slept) << Describe(slept);
    });
  }
  while (busy < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto start = std::chrono::steady_clock::now();
  auto refused = db->Ping();
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::kUnavailable);
  EXPECT_GE(took, std::chrono::milliseconds(150));
  EXPECT_LT(took, std::chrono::milliseconds(1200));
  EXPECT_EQ(db->OpenConnections(), 2);
  for (std::thread& t : sleepers) t.join();
  EXPECT_TRUE(db->Ping());
}

TEST_F(PostgresDatabaseTest, ServerErrorsMapToCodesWithTheServersMessage) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  auto bad = db->Run([](Connection& c) -> core::Result<void> {
    auto rows = c.Query("SELECT no_such_column FROM urls");
    if (!rows) return std::unexpected(rows.error());
    return {};
  });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(bad.error().detail.find("no_such_column"), std::string::npos) << bad.error().detail;
  EXPECT_NE(bad.error().detail.find("42703"), std::string::npos) << bad.error().detail;

  auto cancelled = db->Run([](Connection& c) -> core::Result<void> {
    if (auto r = c.Exec("SET statement_timeout = 50"); !r) return r;
    auto rows = c.Query("SELECT pg_sleep(1)");
    (void)c.Exec("RESET statement_timeout");
    if (!rows) return std::unexpected(rows.error());
    return {};
  });
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, core::ErrorCode::kTimeout) << Describe(cancelled);
  EXPECT_TRUE(db->Ping());  // the connection survived
}

TEST_F(PostgresDatabaseTest, ConcurrentLeasesFromSeveralInstancesNeverOverlap) {
  auto first = OpenMigrated();
  auto second = OpenDb();
  ASSERT_TRUE(first && second);
  PostgresLinkStore a(*first);
  PostgresLinkStore b(*second);
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      PostgresLinkStore& links = t % 2 == 0 ? a : b;
      for (int i = 0; i < 40; ++i) {
        const std::uint64_t count = 1 + static_cast<std::uint64_t>((t * 13 + i * 7) % 50);
        auto leased = links.LeaseCodeBlock(count);
        std::lock_guard lock(mu);
        EXPECT_TRUE(leased) << Describe(leased);
        if (leased) blocks.emplace_back(*leased, *leased + count);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(blocks.size(), 8u * 40u);
  std::sort(blocks.begin(), blocks.end());
  EXPECT_EQ(blocks.front().first, 0u);
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i].first, blocks[i - 1].second) << i;
  }
  // Durable: a new pool continues after the last block.
  auto third = OpenDb();
  ASSERT_TRUE(third);
  EXPECT_EQ(*PostgresLinkStore(*third).LeaseCodeBlock(1), blocks.back().second);
}

TEST_F(PostgresDatabaseTest, ConcurrentIdenticalCreatesFromSeveralInstancesKeepOne) {
  auto first = OpenMigrated();
  auto second = OpenDb();
  ASSERT_TRUE(first && second);
  PostgresAccountStore accounts(*first);
  const std::int64_t owner = AddUser(accounts, "dup@example.com").first;
  PostgresLinkStore a(*first);
  PostgresLinkStore b(*second);
  const std::string url = "https://example.com/same?x=1";
  std::atomic<int> stored{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      PostgresLinkStore& links = t % 2 == 0 ? a : b;
      auto inserted = links.Insert(NewLink(Numbered("d", t), owner, kT0 + t, url));
      if (inserted) {
        ++stored;
      } else if (inserted.error().code == core::ErrorCode::kConflict) {
        ++conflicts;
      } else {
        ADD_FAILURE() << Describe(inserted);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(stored.load(), 1);
  EXPECT_EQ(conflicts.load(), 15);
  auto dup = a.FindDuplicate(owner, url, core::RedirectType::k301);
  ASSERT_TRUE(dup && dup->has_value()) << Describe(dup);
  EXPECT_EQ((*dup)->url, url);
  EXPECT_EQ(a.ListByOwner(owner, std::nullopt, 100)->size(), 1u);
}

TEST_F(PostgresDatabaseTest, ConcurrentBatchesFromSeveralInstancesAddUpExactly) {
  auto first = OpenMigrated();
  auto second = OpenDb();
  ASSERT_TRUE(first && second);
  PostgresClickStore a(*first);
  PostgresClickStore b(*second);
  constexpr int kThreads = 4;
  constexpr int kBatches = 15;
  const core::Micros minute = Floor(Now() - core::kMicrosPerHour, core::kMicrosPerMinute);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PostgresClickStore& clicks = t % 2 == 0 ? a : b;
      for (int i = 0; i < kBatches; ++i) {
        // Two codes in opposite orders, a shared minute and breakdown, a new visitor each.
        core::ClickDelta one = MinuteDelta("abc", minute, 2, 1);
        one.visitors = {Visitor(t * 1000 + i), Visitor(1'000'000)};
        one = With(std::move(one), core::Dimension::kCountry, {{"DE", 1}, {Numbered("c", t), 1}});
        core::ClickDelta two = MinuteDelta("xyz", minute, 1);
        const std::string id = Numbered(Numbered("t", t) + "-", i);
        auto applied =
            clicks.Apply(Batch(id, i % 2 == 0 ? std::vector{one, two} : std::vector{two, one}));
        EXPECT_TRUE(applied) << Describe(applied);
        // The same batch again, from the other instance: nothing changes.
        auto again = (t % 2 == 0 ? b : a).Apply(Batch(id, {one, two}));
        ASSERT_TRUE(again) << Describe(again);
        EXPECT_FALSE(*again);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const core::Date day = core::DateOf(minute);
  auto stats = a.Stats("abc", day, day);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->total_clicks, 2 * kThreads * kBatches);
  EXPECT_EQ(stats->bot_clicks, kThreads * kBatches);
  EXPECT_EQ(stats->unique_visitors, kThreads * kBatches + 1);
  core::Breakdown countries{{"DE", kThreads * kBatches}};
  for (int t = 0; t < kThreads; ++t) countries.push_back({Numbered("c", t), kBatches});
  core::SortBreakdown(countries);
  EXPECT_EQ(Of(*stats, core::Dimension::kCountry), countries);
  EXPECT_EQ(*a.Series("xyz", core::Granularity::kMinute, minute, minute + 1),
            (std::vector<core::BucketCount>{{minute, kThreads * kBatches, 0}}));
}

// Two consumers (on two instances) apply batches from the same partition position at once,
// round after round, for a partition not stored yet (both insert) and then for a stored one
// (both update): exactly one wins each round, the other gets conflict, and only the winners'
// clicks are counted.
TEST_F(PostgresDatabaseTest, ConsumersRacingForAPartitionPositionLetExactlyOneWin) {
  auto first = OpenMigrated();
  auto second = OpenDb();
  ASSERT_TRUE(first && second);
  std::array<std::unique_ptr<PostgresClickStore>, 2> stores = {
      std::make_unique<PostgresClickStore>(*first), std::make_unique<PostgresClickStore>(*second)};
  constexpr int kPartitions = 10;
  constexpr int kRounds = 3;
  int wins = 0;
  for (int partition = 0; partition < kPartitions; ++partition) {
    for (int round = 0; round < kRounds; ++round) {
      std::array<core::Result<bool>, 2> results;
      std::atomic<int> ready{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
          const std::string id =
              Numbered(Numbered(Numbered("c", t) + "-p", partition) + "-r", round);
          const core::ClickBatch batch{
              id,
              {Delta("abc", 0, 1, {})},
              {core::PositionMove{"g/clicks", partition, round * 10, round * 10 + 10}}};
          ready.fetch_add(1);
          while (ready.load() < 2) std::this_thread::yield();
          results[t] = stores[t]->Apply(batch);
        });
      }
      for (std::thread& t : threads) t.join();
      int won = 0;
      for (const core::Result<bool>& r : results) {
        if (r) {
          EXPECT_TRUE(*r);
          ++won;
        } else {
          EXPECT_EQ(r.error().code, core::ErrorCode::kConflict) << Describe(r);
        }
      }
      EXPECT_EQ(won, 1) << "partition " << partition << " round " << round << ": "
                        << Describe(results[0]) << " / " << Describe(results[1]);
      wins += won;
    }
  }
  auto positions = stores[0]->Positions("g/clicks");
  ASSERT_TRUE(positions) << Describe(positions);
  std::sort(positions->begin(), positions->end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  std::vector<core::StreamPosition> expected;
  for (int p = 0; p < kPartitions; ++p) expected.push_back({p, kRounds * 10});
  EXPECT_EQ(*positions, expected);
  auto stats = stores[1]->Stats("abc", kDate0, kDate0);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->total_clicks, wins);
}

// A consumer whose first position insert meets another transaction's uncommitted insert of the
// same partition waits for it and, once that commits, gets conflict (not a unique violation).
TEST_F(PostgresDatabaseTest, APositionStartedByAConcurrentTransactionIsAConflict) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  PostgresClickStore clicks(*db);
  auto other = Connection::Open(schema_.Url(), {});
  ASSERT_TRUE(other) << Describe(other);
  ASSERT_TRUE((*other)->Exec("BEGIN; INSERT INTO stream_positions VALUES ('g/clicks', 0, 40)"));
  core::Result<bool> applied = false;
  std::thread consumer([&] {
    applied = clicks.Apply(core::ClickBatch{
        "w-1", {Delta("abc", 0, 2, {})}, {core::PositionMove{"g/clicks", 0, 0, 10}}});
  });
  // Wait until the consumer's insert is blocked on the other transaction's row.
  for (int i = 0; i < 200; ++i) {
    auto waiting = schema_.Text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE '%stream_positions%'");
    if (waiting && *waiting != "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE((*other)->Exec("COMMIT"));
  consumer.join();
  ASSERT_FALSE(applied) << "applied over another consumer's position";
  EXPECT_EQ(applied.error().code, core::ErrorCode::kConflict) << Describe(applied);
  EXPECT_NE(applied.error().detail.find("partition 0 is 40, not 0"), std::string::npos)
      << applied.error().detail;
  auto stats = clicks.Stats("abc", kDate0, kDate0);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->total_clicks, 0);
  auto positions = clicks.Positions("g/clicks");
  ASSERT_TRUE(positions) << Describe(positions);
  EXPECT_EQ(*positions, (std::vector<core::StreamPosition>{{0, 40}}));
}

TEST_F(PostgresDatabaseTest, BreakdownValuesThatJsonbCannotHoldAreStoredReplaced) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  PostgresClickStore clicks(*db);
  const std::string nul("a\0b", 3);
  const std::string bad_utf8 = "caf\xC3";
  for (int i = 0; i < 2; ++i) {
    auto applied = clicks.Apply(Batch(
        Numbered("w", i),
        {With(Delta("abc", 0, 2, {}), core::Dimension::kReferrer, {{nul, 1}, {bad_utf8, 1}})}));
    ASSERT_TRUE(applied) << Describe(applied);
  }
  auto stats = clicks.Stats("abc", kDate0, kDate0);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(Of(*stats, core::Dimension::kReferrer), (core::Breakdown{{"a\xEF\xBF\xBD"
                                                                      "b",
                                                                      2},
                                                                     {"caf\xEF\xBF\xBD", 2}}));
}

}  // namespace
}  // namespace kurz::testing
