// SQLite-only behaviour: migrations, group commit, durability across reopen and SIGKILL.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <future>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "adapters/sqlite/account_store.hpp"
#include "adapters/sqlite/click_store.hpp"
#include "adapters/sqlite/database.hpp"
#include "adapters/sqlite/link_store.hpp"
#include "adapters/sqlite/migrations.hpp"
#include "adapters/sqlite/settings_store.hpp"
#include "adapters/temp_dir.hpp"
#include "ports/clock.hpp"

namespace kurz::testing {
namespace {

using adapters::sqlite::Connection;
using adapters::sqlite::SqliteAccountStore;
using adapters::sqlite::SqliteDatabase;
using adapters::sqlite::SqliteLinkStore;
using adapters::sqlite::SqliteSettingsStore;

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteDatabase> OpenDb(SqliteDatabase::Options options = {}) {
    auto db = SqliteDatabase::Open(path_, options);
    EXPECT_TRUE(db) << Describe(db);
    return db ? std::move(*db) : nullptr;
  }
  std::unique_ptr<SqliteDatabase> OpenMigrated() {
    auto db = OpenDb();
    if (db) {
      auto migrated = db->Migrate();
      EXPECT_TRUE(migrated) << Describe(migrated);
    }
    return db;
  }

  // Runs a raw statement as one write op.
  static core::Result<void> Exec(SqliteDatabase& db, std::string sql) {
    return db.Write([sql = std::move(sql)](Connection& c) { return c.Exec(sql); });
  }

  static core::Result<std::int64_t> Count(SqliteDatabase& db, const std::string& sql) {
    return db.Read([&](Connection& c) -> core::Result<std::int64_t> {
      auto statement = c.Prepare(sql);
      if (!statement) return std::unexpected(statement.error());
      auto row = statement->Step();
      if (!row) return std::unexpected(row.error());
      return statement->Int(0);
    });
  }

  static core::Result<std::string> Text(SqliteDatabase& db, const std::string& sql) {
    return db.Read([&](Connection& c) -> core::Result<std::string> {
      auto statement = c.Prepare(sql);
      if (!statement) return std::unexpected(statement.error());
      auto row = statement->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) return core::Fail(core::ErrorCode::kNotFound, "no row: " + sql);
      return statement->Text(0);
    });
  }

  // What ClickLog::Apply answered, readably.
  static std::string Outcome(const core::Result<bool>& applied) {
    if (!applied) return Describe(applied);
    return *applied ? "applied" : "applied before";
  }

  TempDir dir_;
  std::string path_ = dir_.File("kurz.db");
};

TEST_F(SqliteDatabaseTest, MigrateAppliesEveryStepOnceThenNothing) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(*db->SchemaVersion(), 0);
  auto first = db->Migrate();
  ASSERT_TRUE(first) << Describe(first);
  EXPECT_EQ(*first, static_cast<int>(adapters::sqlite::Migrations().size()));
  EXPECT_EQ(*db->SchemaVersion(), adapters::sqlite::Migrations().back().version);
  auto second = db->Migrate();
  ASSERT_TRUE(second) << Describe(second);
  EXPECT_EQ(*second, 0);
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(adapters::sqlite::Migrations().size()));

  db.reset();
  db = OpenDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(*db->Migrate(), 0);
}

// A file that a binary of schema version 2 created, with click counts in it, upgrades to the
// current schema keeping them; its top_referrers default ('[]') reads as no referrers and turns
// into an object when referrers are added.
TEST_F(SqliteDatabaseTest, AVersion2DatabaseUpgradesKeepingItsDailyCounts) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  std::string to_version_2 =
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);";
  for (const adapters::sqlite::Migration& m : adapters::sqlite::Migrations()) {
    if (m.version > 2) break;
    to_version_2 += m.sql;
    to_version_2 += Numbered("; INSERT INTO schema_migrations VALUES (", m.version) + ", 0);";
  }
  ASSERT_TRUE(Exec(*db, to_version_2));
  ASSERT_EQ(*db->SchemaVersion(), 2);
  ASSERT_TRUE(Exec(*db,
                   "INSERT INTO daily_stats (short_code, date, click_count, unique_visitors,"
                   " country_breakdown) VALUES ('abc', '2026-11-18', 7, 2, '{\"DE\":7}');"
                   " INSERT INTO daily_visitors VALUES ('abc', '2026-11-18', 'v1'),"
                   " ('abc', '2026-11-18', 'v2')"));

  auto migrated = db->Migrate();
  ASSERT_TRUE(migrated) << Describe(migrated);
  EXPECT_EQ(*migrated, static_cast<int>(adapters::sqlite::Migrations().size()) - 2);
  EXPECT_EQ(*db->SchemaVersion(), adapters::sqlite::Migrations().back().version);

  adapters::sqlite::SqliteClickStore clicks(*db);
  const core::Date day = *core::ParseDate("2026-11-18");
  auto stats = clicks.Stats("abc", day, day);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->total_clicks, 7);
  EXPECT_EQ(stats->bot_clicks, 0);
  EXPECT_EQ(stats->unique_visitors, 2);
  EXPECT_EQ(stats->daily, (std::vector<core::DailyCount>{{day, 7, 2, 0}}));
  EXPECT_EQ(stats->breakdowns[static_cast<int>(core::Dimension::kCountry)],
            (core::Breakdown{{"DE", 7}}));
  EXPECT_TRUE(stats->breakdowns[static_cast<int>(core::Dimension::kReferrer)].empty());

  core::ClickDelta delta;
  delta.code = "abc";
  delta.date = day;
  delta.clicks = 1;
  delta.bot_clicks = 2;
  delta.visitors = {"v2"};
  delta.breakdowns[static_cast<int>(core::Dimension::kReferrer)] = {{"x.example", 1}};
  delta.breakdowns[static_cast<int>(core::Dimension::kCountry)] = {{"DE", 1}};
  ASSERT_EQ(Outcome(clicks.Apply(core::ClickBatch{"w-1", {delta}})), "applied");
  stats = clicks.Stats("abc", day, day);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->daily, (std::vector<core::DailyCount>{{day, 8, 2, 2}}));
  EXPECT_EQ(stats->breakdowns[static_cast<int>(core::Dimension::kReferrer)],
            (core::Breakdown{{"x.example", 1}}));
  EXPECT_EQ(stats->breakdowns[static_cast<int>(core::Dimension::kCountry)],
            (core::Breakdown{{"DE", 8}}));
  EXPECT_EQ(*Text(*db, "SELECT top_referrers FROM daily_stats"), R"({"x.example":1})");
  EXPECT_EQ(*Text(*db, "SELECT country_breakdown FROM daily_stats"), R"({"DE":8})");
  EXPECT_EQ(*Text(*db, "SELECT os_breakdown FROM daily_stats"), "{}");
}

// A file of schema version 3 (before stream positions) upgrades keeping its counts, and its click
// log then stores positions.
TEST_F(SqliteDatabaseTest, AVersion3DatabaseUpgradesKeepingItsCountsAndStoresPositions) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  std::string to_version_3 =
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);";
  for (const adapters::sqlite::Migration& m : adapters::sqlite::Migrations()) {
    if (m.version > 3) break;
    to_version_3 += m.sql;
    to_version_3 += Numbered("; INSERT INTO schema_migrations VALUES (", m.version) + ", 0);";
  }
  ASSERT_TRUE(Exec(*db, to_version_3));
  ASSERT_EQ(*db->SchemaVersion(), 3);
  adapters::sqlite::SqliteClickStore clicks(*db);
  const core::Date day = *core::ParseDate("2026-11-18");
  core::ClickDelta delta;
  delta.code = "abc";
  delta.date = day;
  delta.clicks = 4;
  delta.visitors = {"v1"};
  delta.breakdowns[static_cast<int>(core::Dimension::kCountry)] = {{"DE", 4}};
  ASSERT_EQ(Outcome(clicks.Apply(core::ClickBatch{"w-1", {delta}, {}})), "applied");

  auto migrated = db->Migrate();
  ASSERT_TRUE(migrated) << Describe(migrated);
  EXPECT_EQ(*migrated, static_cast<int>(adapters::sqlite::Migrations().size()) - 3);
  EXPECT_EQ(*db->SchemaVersion(), adapters::sqlite::Migrations().back().version);

  auto stats = clicks.Stats("abc", day, day);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->daily, (std::vector<core::DailyCount>{{day, 4, 1, 0}}));
  EXPECT_EQ(stats->breakdowns[static_cast<int>(core::Dimension::kCountry)],
            (core::Breakdown{{"DE", 4}}));
  // The batch ids survive the upgrade too.
  EXPECT_EQ(Outcome(clicks.Apply(core::ClickBatch{"w-1", {delta}, {}})), "applied before");
  auto none = clicks.Positions("g/clicks");
  ASSERT_TRUE(none) << Describe(none);
  EXPECT_TRUE(none->empty());
  delta.visitors = {"v2"};
  ASSERT_EQ(Outcome(clicks.Apply(core::ClickBatch{"w-2", {delta}, {{"g/clicks", 0, 0, 5}}})),
            "applied");
  auto positions = clicks.Positions("g/clicks");
  ASSERT_TRUE(positions) << Describe(positions);
  EXPECT_EQ(*positions, (std::vector<core::StreamPosition>{{0, 5}}));
  stats = clicks.Stats("abc", day, day);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->daily, (std::vector<core::DailyCount>{{day, 8, 2, 0}}));
}

// Breakdown columns that are not objects of integers read as empty (or lose only the members
// that are not integers) rather than failing Stats or Apply.
TEST_F(SqliteDatabaseTest, BreakdownColumnsThatAreNotObjectsReadAsEmpty) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  ASSERT_TRUE(Exec(*db,
                   "INSERT INTO daily_stats (short_code, date, click_count, top_referrers,"
                   " country_breakdown, device_breakdown) VALUES ('abc', '2026-11-18', 3,"
                   " 'not json', '[1, 2]', '{\"mobile\": 2, \"desktop\": \"x\"}')"));
  adapters::sqlite::SqliteClickStore clicks(*db);
  const core::Date day = *core::ParseDate("2026-11-18");
  auto stats = clicks.Stats("abc", day, day);
  ASSERT_TRUE(stats) << Describe(stats);
  EXPECT_EQ(stats->total_clicks, 3);
  EXPECT_TRUE(stats->breakdowns[static_cast<int>(core::Dimension::kReferrer)].empty());
  EXPECT_TRUE(stats->breakdowns[static_cast<int>(core::Dimension::kCountry)].empty());
  EXPECT_EQ(stats->breakdowns[static_cast<int>(core::Dimension::kDevice)],
            (core::Breakdown{{"mobile", 2}}));
  core::ClickDelta delta;
  delta.code = "abc";
  delta.date = day;
  delta.clicks = 1;
  delta.breakdowns[static_cast<int>(core::Dimension::kReferrer)] = {{"r", 1}};
  ASSERT_EQ(Outcome(clicks.Apply(core::ClickBatch{"w-1", {delta}})), "applied");
  EXPECT_EQ(*Text(*db, "SELECT top_referrers FROM daily_stats"), R"({"r":1})");
}

TEST_F(SqliteDatabaseTest, NewerSchemaThanTheBinaryIsRefused) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  ASSERT_TRUE(Exec(*db, "INSERT INTO schema_migrations VALUES (9999, 0)"));
  auto migrated = db->Migrate();
  ASSERT_FALSE(migrated);
  EXPECT_EQ(migrated.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(migrated.error().detail.find("9999"), std::string::npos);
}

TEST_F(SqliteDatabaseTest, SettingsAreWalAndFullSyncAndForeignKeysAndABigCache) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  auto pragmas = db->Write([](Connection& c) -> core::Result<void> {
    for (auto [pragma, expected] :
         {std::pair{"PRAGMA journal_mode", "wal"}, std::pair{"PRAGMA synchronous", "2"},
          std::pair{"PRAGMA foreign_keys", "1"}, std::pair{"PRAGMA cache_size", "-65536"},
          std::pair{"PRAGMA temp_store", "2"}}) {
      auto statement = c.Prepare(pragma);
      if (!statement) return std::unexpected(statement.error());
      auto row = statement->Step();
      if (!row || !*row) return core::Fail(core::ErrorCode::kInternal, pragma);
      if (statement->Text(0) != expected) {
        return core::Fail(core::ErrorCode::kInternal,
                          std::string(pragma) + " = " + statement->Text(0));
      }
    }
    return {};
  });
  EXPECT_TRUE(pragmas) << Describe(pragmas);
  EXPECT_EQ(*Count(*db, "PRAGMA cache_size"), -16384);  // a reader's
  EXPECT_EQ(*Count(*db, "PRAGMA temp_store"), 2);
}

TEST_F(SqliteDatabaseTest, OpenRefusesInMemoryAndMissingDirectories) {
  auto memory = SqliteDatabase::Open(":memory:");
  ASSERT_FALSE(memory);
  EXPECT_EQ(memory.error().code, core::ErrorCode::kInvalidArgument);
  auto missing = SqliteDatabase::Open(dir_.File("no/such/dir/kurz.db"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kUnavailable) << Describe(missing);
}

TEST_F(SqliteDatabaseTest, StoresOnAnUnmigratedDatabaseFailCleanly) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  SqliteLinkStore links(*db);
  auto found = links.Find("abc");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, core::ErrorCode::kInternal);
  auto inserted = links.Insert(NewLink("abc", 0, kT0));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, core::ErrorCode::kInternal);
}

TEST_F(SqliteDatabaseTest, DataSurvivesReopen) {
  std::int64_t owner = 0;
  {
    auto db = OpenMigrated();
    ASSERT_TRUE(db);
    SqliteAccountStore accounts(*db);
    SqliteLinkStore links(*db);
    SqliteSettingsStore settings(*db);
    adapters::sqlite::SqliteClickStore clicks(*db);
    owner = AddUser(accounts, "keep@example.com").first;
    ASSERT_TRUE(links.Insert(NewLink("kept", owner, kT0, "https://kept.example/")));
    ASSERT_TRUE(settings.GetOrInsert("secret", "s3"));
    core::ClickDelta delta;
    delta.code = "kept";
    delta.date = core::DateOf(kT0);
    delta.clicks = 1;
    delta.last_clicked_at = kT0;
    ASSERT_EQ(Outcome(clicks.Apply(core::ClickBatch{"w-1", {delta}})), "applied");
  }
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  SqliteAccountStore accounts(*db);
  SqliteLinkStore links(*db);
  auto link = links.Find("kept");
  ASSERT_TRUE(link) << Describe(link);
  EXPECT_EQ(link->url, "https://kept.example/");
  EXPECT_EQ(link->owner_id, owner);
  EXPECT_EQ(link->click_count, 1);
  EXPECT_EQ(accounts.FindUser(owner)->email, "keep@example.com");
  EXPECT_EQ(*SqliteSettingsStore(*db).GetOrInsert("secret", "other"), "s3");
  // The batch id survived too.
  adapters::sqlite::SqliteClickStore clicks(*db);
  EXPECT_EQ(Outcome(clicks.Apply(core::ClickBatch{"w-1", {}})), "applied before");
}

// Apply moves urls.last_clicked_at forward only, and writes no raw `clicks` rows.
TEST_F(SqliteDatabaseTest, ApplyKeepsTheLatestClickTimeAndNoRawRows) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  SqliteAccountStore accounts(*db);
  SqliteLinkStore links(*db);
  adapters::sqlite::SqliteClickStore clicks(*db);
  ASSERT_TRUE(links.Insert(NewLink("abc", AddUser(accounts, "t@example.com").first, kT0)));
  core::ClickDelta delta;
  delta.code = "abc";
  delta.date = core::DateOf(kT0);
  delta.clicks = 2;
  delta.last_clicked_at = kT0 + 50;
  ASSERT_TRUE(clicks.Apply({"w-1", {delta}}));
  delta.clicks = 1;
  delta.last_clicked_at = kT0 + 20;
  ASSERT_TRUE(clicks.Apply({"w-2", {delta}}));
  EXPECT_EQ(*Count(*db, "SELECT last_clicked_at FROM urls WHERE short_code = 'abc'"), kT0 + 50);
  EXPECT_EQ(*Count(*db, "SELECT click_count FROM urls WHERE short_code = 'abc'"), 3);
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM clicks"), 0);
}

// Batch ids older than a week are forgotten as new batches come in; newer ones are kept.
TEST_F(SqliteDatabaseTest, ApplyForgetsBatchIdsAfterAWeek) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const core::Micros day = 86'400 * core::kMicrosPerSecond;
  ASSERT_TRUE(Exec(*db, "INSERT INTO applied_click_batches VALUES ('old', " +
                            std::to_string(now - 8 * day) + "), ('recent', " +
                            std::to_string(now - 6 * day) + ")"));
  adapters::sqlite::SqliteClickStore clicks(*db);
  EXPECT_EQ(Outcome(clicks.Apply({"recent", {}})), "applied before");
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM applied_click_batches WHERE id = 'old'"), 1)
      << "a batch applied before changes nothing, not even the pruning";
  EXPECT_EQ(Outcome(clicks.Apply({"new", {}})), "applied");
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM applied_click_batches WHERE id = 'old'"), 0);
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM applied_click_batches"), 2);
}

// The week is counted on the clock the database was opened with (options.clock), not the
// system's: a fake clock years ahead prunes by its own time.
TEST_F(SqliteDatabaseTest, BatchIdsAreForgottenByTheDatabasesClock) {
  struct FixedClock final : ports::Clock {
    core::Micros now = 0;
    core::Micros Now() const override { return now; }
  } clock;
  const core::Micros day = 86'400 * core::kMicrosPerSecond;
  clock.now = 1'893'456'000 * core::kMicrosPerSecond;  // 2030-01-01, years after the system clock
  SqliteDatabase::Options options;
  options.clock = &clock;
  auto db = OpenDb(options);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Migrate());
  EXPECT_EQ(*Count(*db, "SELECT min(applied_at) FROM schema_migrations"), clock.now)
      << "migrations are stamped with the database's clock";
  ASSERT_TRUE(Exec(*db, "INSERT INTO applied_click_batches VALUES ('old', " +
                            std::to_string(clock.now - 8 * day) + "), ('recent', " +
                            std::to_string(clock.now - 6 * day) + ")"));
  adapters::sqlite::SqliteClickStore clicks(*db);
  EXPECT_EQ(Outcome(clicks.Apply({"new", {}})), "applied");
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM applied_click_batches WHERE id = 'old'"), 0);
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM applied_click_batches WHERE id = 'recent'"), 1);
  EXPECT_EQ(*Count(*db, "SELECT applied_at FROM applied_click_batches WHERE id = 'new'"),
            clock.now);
}

TEST_F(SqliteDatabaseTest, LeasedBlocksNeverRepeatAcrossReopen) {
  std::uint64_t end_of_last = 0;
  for (int round = 0; round < 3; ++round) {
    auto db = OpenMigrated();
    ASSERT_TRUE(db);
    SqliteLinkStore links(*db);
    auto first = links.LeaseCodeBlock(1000);
    ASSERT_TRUE(first) << Describe(first);
    EXPECT_EQ(*first, end_of_last);
    end_of_last = *first + 1000;
  }
}

// One op holds the writer thread; the ops queued meanwhile form the next batch, in which one op
// does some work and then fails. Only that op's work is rolled back.
TEST_F(SqliteDatabaseTest, AFailingOpDoesNotRollBackTheRestOfItsBatch) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  ASSERT_TRUE(Exec(*db, "CREATE TABLE t (v INTEGER PRIMARY KEY); INSERT INTO t VALUES (100)"));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> blocker_running{false};
  std::thread blocker([&] {
    auto r = db->Write([&](Connection&) -> core::Result<void> {
      blocker_running = true;
      released.wait();
      return {};
    });
    EXPECT_TRUE(r) << Describe(r);
  });
  while (!blocker_running) std::this_thread::yield();
  const std::uint64_t batches_before = db->CommittedBatches();

  constexpr int kOps = 12;
  std::vector<core::Result<void>> results(kOps);
  std::vector<std::thread> writers;
  for (int i = 0; i < kOps; ++i) {
    writers.emplace_back([&, i] {
      results[i] = db->Write([i](Connection& c) -> core::Result<void> {
        auto r = c.Exec(Numbered("INSERT INTO t VALUES (", i) + ")");
        if (!r) return r;
        if (i == 5) {  // did work, then fails: its row must go
          return core::Fail(core::ErrorCode::kInvalidArgument, "op 5 fails");
        }
        if (i == 7) return c.Exec("INSERT INTO t VALUES (100)");  // conflict: its 7 goes too
        if (i == 9) throw std::runtime_error("op 9 throws");
        return r;
      });
    });
  }
  while (db->PendingWrites() < kOps) std::this_thread::yield();
  release.set_value();
  for (std::thread& writer : writers) writer.join();
  blocker.join();

  EXPECT_EQ(db->CommittedBatches() - batches_before, 2u);  // the blocker's, then the 12
  for (int i = 0; i < kOps; ++i) {
    if (i == 5) {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error().code, core::ErrorCode::kInvalidArgument);
    } else if (i == 7) {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error().code, core::ErrorCode::kConflict);
    } else if (i == 9) {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error().code, core::ErrorCode::kInternal);
    } else {
      EXPECT_TRUE(results[i]) << i << ": " << Describe(results[i]);
    }
  }
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM t WHERE v < 100"), kOps - 3);
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM t WHERE v IN (5, 7, 9)"), 0);
}

// Many concurrent writers: every insert that returned OK is there, every conflict was reported,
// and writes were grouped into fewer transactions than there were writes.
TEST_F(SqliteDatabaseTest, GroupCommitUnderConcurrentWriters) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  SqliteAccountStore accounts(*db);
  SqliteLinkStore links(*db);
  const std::int64_t owner = AddUser(accounts, "w@example.com").first;
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  const std::uint64_t batches_before = db->CommittedBatches();
  std::mutex mu;
  std::vector<std::string> inserted;
  int conflicts = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every 4th code is shared by all threads: exactly one of them wins it.
        const std::string code =
            i % 4 == 0 ? Numbered("shared", i) : Numbered(Numbered("t", t) + "-", i);
        auto r = links.Insert(NewLink(code, owner, kT0 + i));
        std::lock_guard lock(mu);
        if (r) {
          inserted.push_back(code);
        } else {
          EXPECT_EQ(r.error().code, core::ErrorCode::kConflict) << Describe(r);
          ++conflicts;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  constexpr int kShared = kPerThread / 4;
  EXPECT_EQ(conflicts, kShared * (kThreads - 1));
  EXPECT_EQ(inserted.size(), static_cast<std::size_t>(kThreads * kPerThread - conflicts));
  for (const std::string& code : inserted) EXPECT_TRUE(links.Find(code)) << code;
  EXPECT_EQ(*Count(*db, "SELECT count(*) FROM urls"), static_cast<std::int64_t>(inserted.size()));
  const std::uint64_t batches = db->CommittedBatches() - batches_before;
  EXPECT_LT(batches, static_cast<std::uint64_t>(kThreads * kPerThread));
  std::cout << "[          ] " << kThreads * kPerThread << " writes in " << batches
            << " group commits\n";
}

TEST_F(SqliteDatabaseTest, BatchLimitSplitsLargeQueues) {
  SqliteDatabase::Options options;
  options.max_batch = 2;
  auto db = OpenDb(options);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Migrate());
  SqliteLinkStore links(*db);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&links] {
      for (int i = 0; i < 10; ++i) EXPECT_TRUE(links.LeaseCodeBlock(1));
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(*links.LeaseCodeBlock(1), 80u);
}

// A write that returned OK is on disk even when the process is killed right after.
TEST_F(SqliteDatabaseTest, CommittedWritesSurviveSigkill) {
  {
    auto db = OpenMigrated();
    ASSERT_TRUE(db);
    AddUser(*std::make_unique<SqliteAccountStore>(*db), "k@example.com");
  }
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    auto db = SqliteDatabase::Open(path_);
    if (!db) _exit(2);
    SqliteLinkStore links(**db);
    for (int i = 0;; ++i) {
      if (!links.Insert(NewLink(Numbered("k", i), 1, kT0 + i))) _exit(3);
      if (write(pipe_fds[1], &i, sizeof i) != sizeof i) _exit(4);
    }
  }
  close(pipe_fds[1]);
  int acknowledged = -1;
  for (int i = 0; i < 50; ++i) {
    int value = 0;
    ASSERT_EQ(read(pipe_fds[0], &value, sizeof value), static_cast<ssize_t>(sizeof value));
    acknowledged = value;
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipe_fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  SqliteLinkStore links(*db);
  for (int i = 0; i <= acknowledged; ++i) EXPECT_TRUE(links.Find(Numbered("k", i))) << i;
}

TEST_F(SqliteDatabaseTest, QueryPlansUseTheIndexes) {
  auto db = OpenMigrated();
  ASSERT_TRUE(db);
  auto plan = [&](const std::string& sql) {
    return db->Read([&](Connection& c) -> core::Result<std::string> {
      auto statement = c.Prepare("EXPLAIN QUERY PLAN " + sql);
      if (!statement) return std::unexpected(statement.error());
      std::string text;
      while (true) {
        auto row = statement->Step();
        if (!row) return std::unexpected(row.error());
        if (!*row) return text;
        text += statement->Text(3) + "\n";
      }
    });
  };
  auto list = plan(
      "SELECT short_code FROM urls WHERE user_id IS 1 AND deleted_at IS NULL"
      " AND (created_at, short_code) < (5, 'x') ORDER BY created_at DESC, short_code DESC"
      " LIMIT 10");
  ASSERT_TRUE(list) << Describe(list);
  // The cursor is a range on the index (a seek), not a filter over all the owner's links.
  EXPECT_NE(list->find("idx_urls_user_id_created (user_id=? AND (created_at,short_code)<(?,?))"),
            std::string::npos)
      << *list;
  EXPECT_EQ(list->find("TEMP B-TREE"), std::string::npos) << *list;
  auto dup = plan(
      "SELECT short_code FROM urls WHERE user_id IS 1 AND original_url = 'u'"
      " AND deleted_at IS NULL AND redirect_type = 301 AND is_custom = 0 AND expires_at IS NULL"
      " AND personal = 0 LIMIT 1");
  ASSERT_TRUE(dup);
  EXPECT_NE(dup->find("idx_urls_dedup"), std::string::npos) << *dup;
  EXPECT_EQ(dup->find("TEMP B-TREE"), std::string::npos) << *dup;
  // Stats: the days and the distinct visitors over a range are ranges of primary keys.
  auto days = plan(
      "SELECT date, click_count, unique_visitors FROM daily_stats"
      " WHERE short_code = 'a' AND date >= '2026-01-01' AND date <= '2026-01-31' ORDER BY date");
  ASSERT_TRUE(days) << Describe(days);
  EXPECT_NE(days->find("SEARCH daily_stats USING PRIMARY KEY (short_code=? AND date>? AND date<?)"),
            std::string::npos)
      << *days;
  EXPECT_EQ(days->find("TEMP B-TREE FOR ORDER BY"), std::string::npos) << *days;
  auto visitors = plan(
      "SELECT count(DISTINCT visitor) FROM daily_visitors"
      " WHERE short_code = 'a' AND date >= '2026-01-01' AND date <= '2026-01-31'");
  ASSERT_TRUE(visitors) << Describe(visitors);
  EXPECT_NE(visitors->find(
                "SEARCH daily_visitors USING PRIMARY KEY (short_code=? AND date>? AND date<?)"),
            std::string::npos)
      << *visitors;
  // Apply's pruning of old batch ids is a seek on the applied_at index, not a scan.
  auto prune = plan("DELETE FROM applied_click_batches WHERE applied_at < 5");
  ASSERT_TRUE(prune) << Describe(prune);
  EXPECT_NE(prune->find("idx_applied_click_batches_applied_at (applied_at<?)"), std::string::npos)
      << *prune;
  // So is its retention of minute and hour counts; Series reads ranges of primary keys.
  for (auto [sql, expected] :
       {std::pair{"DELETE FROM minute_stats WHERE minute < 5",
                  "idx_minute_stats_minute (minute<?)"},
        std::pair{"DELETE FROM hourly_stats WHERE hour < 5", "idx_hourly_stats_hour (hour<?)"},
        std::pair{"SELECT minute, clicks, bot_clicks FROM minute_stats WHERE short_code = 'a'"
                  " AND minute >= 1 AND minute < 5 ORDER BY minute",
                  "SEARCH minute_stats USING PRIMARY KEY (short_code=? AND minute>? AND minute<?)"},
        std::pair{"SELECT hour, clicks, bot_clicks FROM hourly_stats WHERE short_code = 'a'"
                  " AND hour >= 1 AND hour < 5 ORDER BY hour",
                  "SEARCH hourly_stats USING PRIMARY KEY (short_code=? AND hour>? AND hour<?)"}}) {
    auto p = plan(sql);
    ASSERT_TRUE(p) << Describe(p);
    EXPECT_NE(p->find(expected), std::string::npos) << *p;
    EXPECT_EQ(p->find("TEMP B-TREE"), std::string::npos) << *p;
  }
}

}  // namespace
}  // namespace kurz::testing
