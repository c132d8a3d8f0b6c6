#include "adapters/postgres/database.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <span>

#include "adapters/common/clock.hpp"
#include "adapters/postgres/migrations.hpp"

namespace kurz::adapters::postgres {
namespace {

using core::ErrorCode;
using core::Fail;

// pg_advisory_xact_lock(kLockClass, hash of the schema): migrations and partition creation of
// one schema are serialized across every instance; other schemas are not held up.
constexpr std::string_view kLockSchema =
    "SELECT pg_advisory_xact_lock(1802859130, hashtext(coalesce(current_schema(), '')))";

bool Retryable(std::string_view sqlstate) { return sqlstate == "40001" || sqlstate == "40P01"; }

core::Result<int> AppliedVersion(Connection& c) {
  core::Result<Rows> exists = c.Query("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists) return std::unexpected(std::move(exists.error()));
  if (exists->Size() != 1 || !exists->Bool(0, 0)) return 0;
  core::Result<Rows> max = c.Query("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!max) return std::unexpected(std::move(max.error()));
  return static_cast<int>(max->Int(0, 0));
}

// "YYYY-MM-01 00:00:00+00" and "YYYY_MM" of the month `months` after the one `now` lies in.
struct Month {
  std::string start;
  std::string end;
  std::string suffix;
};

Month MonthAfter(core::Micros now, int months) {
  using namespace std::chrono;
  const year_month_day day{sys_days{days{core::DateOf(now).days}}};
  const year_month first = year_month{day.year(), day.month()} + std::chrono::months{months};
  const year_month next = first + std::chrono::months{1};
  auto format = [](year_month ym, const char* pattern) {
    char text[32];
    std::snprintf(text, sizeof text, pattern, static_cast<int>(ym.year()),
                  static_cast<unsigned>(ym.month()));
    return std::string(text);
  };
  return Month{format(first, "%04d-%02u-01 00:00:00+00"), format(next, "%04d-%02u-01 00:00:00+00"),
               format(first, "%04d_%02u")};
}

}  // namespace

PostgresDatabase::PostgresDatabase(std::string url, Options options)
    : url_(std::move(url)),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : DefaultClock()),
      settings_{options.connect_timeout_seconds, "kurz"} {}

core::Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(const std::string& url,
                                                                       Options options) {
  return Guarded<core::Result<std::unique_ptr<PostgresDatabase>>>(
      [&]() -> core::Result<std::unique_ptr<PostgresDatabase>> {
        if (!url.starts_with("postgres://") && !url.starts_with("postgresql://")) {
          return Fail(ErrorCode::kInvalidArgument,
                      "postgres: the URL must start with postgres:// or postgresql:// (got " +
                          RedactUrl(url) + ")");
        }
        if (options.max_connections < 1 || options.transaction_attempts < 1) {
          return Fail(ErrorCode::kInvalidArgument,
                      "postgres: max_connections and transaction_attempts must be >= 1");
        }
        char* parse_error = nullptr;
        PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
        if (parsed == nullptr) {
          std::string message = parse_error != nullptr ? parse_error : "out of memory";
          PQfreemem(parse_error);
          while (!message.empty() && message.back() == '\n') message.pop_back();
          return Fail(ErrorCode::kInvalidArgument,
                      "postgres: bad URL " + RedactUrl(url) + ": " + message);
        }
        PQconninfoFree(parsed);

        std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(url, options));
        if (!options.connect_on_open) return db;
        core::Result<std::unique_ptr<Connection>> first = Connection::Open(url, db->settings_);
        if (!first) return std::unexpected(std::move(first.error()));
        db->idle_.push_back(std::move(*first));
        db->open_ = 1;
        return db;
      });
}

PostgresDatabase::~PostgresDatabase() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

int PostgresDatabase::OpenConnections() const {
  std::lock_guard lock(mu_);
  return open_;
}

core::Result<PostgresDatabase::Lease> PostgresDatabase::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_lock lock(mu_);
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      if (connection->CheckIdle()) return Lease(this, std::move(connection));
      // Ended by the server while idle: replace it.
      --open_;
      lock.unlock();
      connection.reset();
      lock.lock();
    }
    if (open_ < options_.max_connections) {
      ++open_;
      lock.unlock();
      core::Result<std::unique_ptr<Connection>> opened = Connection::Open(url_, settings_);
      if (opened) return Lease(this, std::move(*opened));
      lock.lock();
      --open_;
      cv_.notify_one();
      return std::unexpected(std::move(opened.error()));
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_connections) {
      return Fail(ErrorCode::kUnavailable,
                  "postgres: all " + std::to_string(options_.max_connections) +
                      " connections busy for " + std::to_string(options_.acquire_timeout.count()) +
                      " ms");
    }
  }
}

void PostgresDatabase::Release(std::unique_ptr<Connection> connection) {
  // A call that returned (or threw) inside a transaction leaves it open: roll it back here.
  if (connection->Ok() && connection->InTransaction()) (void)connection->Exec("ROLLBACK");
  const bool keep = connection->Ok() && !connection->InTransaction();
  if (!keep) connection.reset();
  {
    std::lock_guard lock(mu_);
    if (keep) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
}

core::Result<void> PostgresDatabase::Begin(Connection& c) {
  core::Result<Rows> begun = c.Query("BEGIN");
  if (!begun) return std::unexpected(std::move(begun.error()));
  return {};
}

std::pair<core::Result<void>, bool> PostgresDatabase::End(Connection& c,
                                                          const core::Error* failed) {
  if (failed != nullptr) {
    const bool retry = Retryable(c.LastSqlState());
    if (c.Ok()) (void)c.Query("ROLLBACK");
    return {std::unexpected(*failed), retry};
  }
  core::Result<Rows> committed = c.Query("COMMIT");
  if (committed) return {core::Result<void>{}, false};
  return {std::unexpected(std::move(committed.error())), Retryable(c.LastSqlState())};
}

core::Result<int> PostgresDatabase::Migrate() {
  const std::span<const Migration> migrations = Migrations();
  int applied = 0;
  for (const Migration& migration : migrations) {
    core::Result<bool> done = Transaction([&](Connection& c) -> core::Result<bool> {
      if (core::Result<Rows> locked = c.Query(kLockSchema); !locked) {
        return std::unexpected(std::move(locked.error()));
      }
      if (core::Result<void> r = c.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                        "version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                                        " applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())");
          !r) {
        return std::unexpected(std::move(r.error()));
      }
      core::Result<int> current = AppliedVersion(c);
      if (!current) return std::unexpected(std::move(current.error()));
      if (auto ok = CheckSchemaNotNewer("postgres", *current, migrations); !ok) {
        return std::unexpected(std::move(ok.error()));
      }
      if (migration.version <= *current) return false;  // applied before, maybe by another
      if (core::Result<void> r = c.Exec(migration.sql); !r) {
        return std::unexpected(MigrationFailed("postgres", migration, r.error()));
      }
      core::Result<Rows> recorded =
          c.Query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                  migration.version, migration.name);
      if (!recorded) return std::unexpected(std::move(recorded.error()));
      return true;
    });
    if (!done) return std::unexpected(std::move(done.error()));
    if (*done) ++applied;
  }
  if (core::Result<int> created = EnsureClickPartitions(Now()); !created) {
    return std::unexpected(std::move(created.error()));
  }
  return applied;
}

core::Result<int> PostgresDatabase::SchemaVersion() {
  return Run([](Connection& c) { return AppliedVersion(c); });
}

core::Result<int> PostgresDatabase::EnsureClickPartitions(core::Micros now) {
  constexpr int kMonthsAhead = 3;  // this month and the next two
  return Transaction([now](Connection& c) -> core::Result<int> {
    if (core::Result<Rows> locked = c.Query(kLockSchema); !locked) {
      return std::unexpected(std::move(locked.error()));
    }
    core::Result<Rows> parent = c.Query("SELECT to_regclass('clicks') IS NOT NULL");
    if (!parent) return std::unexpected(std::move(parent.error()));
    if (!parent->Bool(0, 0)) {
      return Fail(ErrorCode::kInternal, "postgres: no clicks table: the database is not migrated");
    }
    int created = 0;
    for (int i = 0; i < kMonthsAhead; ++i) {
      const Month month = MonthAfter(now, i);
      const std::string name = "clicks_" + month.suffix;
      core::Result<Rows> exists = c.Query("SELECT to_regclass($1) IS NOT NULL", name);
      if (!exists) return std::unexpected(std::move(exists.error()));
      if (exists->Bool(0, 0)) continue;
      // Only digits and fixed text go into the statement.
      if (core::Result<void> r = c.Exec("CREATE TABLE " + name + " PARTITION OF clicks FOR VALUES" +
                                        " FROM ('" + month.start + "') TO ('" + month.end + "')");
          !r) {
        return std::unexpected(std::move(r.error()));
      }
      ++created;
    }
    return created;
  });
}

core::Result<void> PostgresDatabase::Ping() {
  return Run([](Connection& c) -> core::Result<void> {
    core::Result<Rows> rows = c.Query("SELECT 1");
    if (!rows) return std::unexpected(std::move(rows.error()));
    return {};
  });
}

}  // namespace kurz::adapters::postgres
