#include "adapters/sqlite/database.hpp"

#include <pthread.h>

#include <sqlite3.h>

#include <algorithm>
#include <future>
#include <optional>
#include <utility>

#include "adapters/common/clock.hpp"
#include "adapters/sqlite/migrations.hpp"
#include "core/time.hpp"

namespace kurz::adapters::sqlite {
namespace {

using core::ErrorCode;
using core::Fail;

core::Result<void> RunCached(Connection& connection, std::string_view sql) {
  core::Result<Statement> statement = connection.Prepare(sql);
  if (!statement) return std::unexpected(std::move(statement.error()));
  return statement->Run();
}

core::Result<int> AppliedVersion(Connection& connection) {
  core::Result<Statement> exists = connection.Prepare(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
  if (!exists) return std::unexpected(std::move(exists.error()));
  core::Result<bool> row = exists->Step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row || exists->Int(0) == 0) return 0;
  core::Result<Statement> max =
      connection.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!max) return std::unexpected(std::move(max.error()));
  row = max->Step();
  if (!row) return std::unexpected(std::move(row.error()));
  return *row ? static_cast<int>(max->Int(0)) : 0;
}

}  // namespace

struct SqliteDatabase::Request {
  WriteOp op;
  core::Result<void> result;
  std::promise<core::Result<void>> done;
};

SqliteDatabase::ReaderLease::~ReaderLease() {
  if (connection_ == nullptr) return;  // moved from
  {
    std::lock_guard lock(db_->readers_mu_);
    db_->idle_readers_.push_back(std::move(connection_));
  }
  db_->readers_cv_.notify_one();
}

SqliteDatabase::SqliteDatabase(Options options)
    : options_(options), clock_(options.clock != nullptr ? *options.clock : DefaultClock()) {}

core::Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                                   Options options) {
  try {
    if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
      return Fail(ErrorCode::kInvalidArgument,
                  "sqlite: need a file path (an in-memory database would differ per connection)");
    }
    if (options.read_connections < 1 || options.max_batch < 1) {
      return Fail(ErrorCode::kInvalidArgument, "sqlite: read_connections and max_batch >= 1");
    }
    if (sqlite3_threadsafe() == 0) {
      return Fail(ErrorCode::kInternal, "sqlite: library built without thread support");
    }
    std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(options));

    core::Result<std::unique_ptr<Connection>> writer =
        Connection::Open(path, /*read_only=*/false, options.busy_timeout);
    if (!writer) return std::unexpected(std::move(writer.error()));
    {
      core::Result<Statement> wal = (*writer)->Prepare("PRAGMA journal_mode = WAL");
      if (!wal) return std::unexpected(std::move(wal.error()));
      core::Result<bool> row = wal->Step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row || wal->Text(0) != "wal") {
        return Fail(ErrorCode::kUnavailable, "sqlite: could not switch " + path + " to WAL mode");
      }
    }
    // FULL: in WAL mode the log is synced at every commit, so a commit survives power loss.
    // A 64 MiB page cache (the default is 2 MiB) keeps the B-trees the click writer updates
    // for every code and day in memory; it is an upper bound, filled only as pages are read.
    if (core::Result<void> r = (*writer)->Exec("PRAGMA synchronous = FULL;"
                                               "PRAGMA foreign_keys = ON;"
                                               "PRAGMA cache_size = -65536;"
                                               "PRAGMA temp_store = MEMORY;");
        !r) {
      return std::unexpected(std::move(r.error()));
    }
    db->writer_ = std::move(*writer);

    for (int i = 0; i < options.read_connections; ++i) {
      core::Result<std::unique_ptr<Connection>> reader =
          Connection::Open(path, /*read_only=*/true, options.busy_timeout);
      if (!reader) return std::unexpected(std::move(reader.error()));
      // Smaller than the writer's: a reader's cache is dropped whenever another connection has
      // committed since its last read, so it mostly serves one query. Temp B-trees (DISTINCT,
      // ORDER BY without an index) stay in memory.
      if (core::Result<void> r = (*reader)->Exec("PRAGMA cache_size = -16384;"
                                                 "PRAGMA temp_store = MEMORY;");
          !r) {
        return std::unexpected(std::move(r.error()));
      }
      db->idle_readers_.push_back(std::move(*reader));
    }
    db->writer_thread_ = std::thread([raw = db.get()] {
      pthread_setname_np(pthread_self(), "kurz-sql-writer");
      raw->WriterLoop();
    });
    return db;
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("sqlite open: ") + e.what());
  }
}

SqliteDatabase::~SqliteDatabase() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  // Readers first: the writer's close then checkpoints the log into the database file.
  idle_readers_.clear();
  writer_.reset();
}

core::Result<void> SqliteDatabase::Write(WriteOp op) {
  try {
    Request request{std::move(op), {}, {}};
    std::future<core::Result<void>> done = request.done.get_future();
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) return Fail(ErrorCode::kUnavailable, "sqlite: database is closing");
      if (queue_.size() >= options_.max_queued_writes) {
        return Fail(ErrorCode::kUnavailable, "sqlite: write queue full");
      }
      queue_.push_back(&request);
    }
    queue_cv_.notify_one();
    return done.get();
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("sqlite write: ") + e.what());
  }
}

std::size_t SqliteDatabase::PendingWrites() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

void SqliteDatabase::WriterLoop() {
  std::vector<Request*> batch;
  while (true) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write has been run
      const std::size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    try {
      RunBatch(batch);
    } catch (...) {
      // Only allocation can throw here. Leave no transaction open and fail the whole batch
      // (with a detail short enough not to allocate).
      if (sqlite3_get_autocommit(writer_->Handle()) == 0) {
        sqlite3_exec(writer_->Handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
      for (Request* request : batch) {
        request->result = core::Fail(ErrorCode::kInternal, "batch failed");
      }
    }
    for (Request* request : batch) request->done.set_value(std::move(request->result));
    batch.clear();
  }
}

void SqliteDatabase::RunBatch(std::vector<Request*>& batch) {
  Connection& c = *writer_;
  auto fail_all = [&batch](const core::Error& error) {
    for (Request* request : batch) request->result = std::unexpected(error);
  };
  if (core::Result<void> begin = RunCached(c, "BEGIN IMMEDIATE"); !begin) {
    fail_all(begin.error());
    return;
  }
  std::optional<core::Error> aborted;
  for (Request* request : batch) {
    if (core::Result<void> savepoint = RunCached(c, "SAVEPOINT op"); !savepoint) {
      aborted = std::move(savepoint.error());
      break;
    }
    try {
      request->result = request->op(c);
    } catch (const std::exception& e) {
      request->result = Fail(ErrorCode::kInternal, std::string("sqlite write op: ") + e.what());
    } catch (...) {
      request->result = Fail(ErrorCode::kInternal, "sqlite write op: unknown exception");
    }
    if (sqlite3_get_autocommit(c.Handle()) != 0) {
      // Some errors (I/O, disk full) make SQLite roll back the whole transaction: the
      // operations before this one are gone too.
      std::string detail = "sqlite: transaction rolled back";
      if (!request->result) detail += ": " + request->result.error().detail;
      aborted = core::Error{ErrorCode::kUnavailable, std::move(detail)};
      break;
    }
    core::Result<void> end =
        request->result ? RunCached(c, "RELEASE op") : RunCached(c, "ROLLBACK TO op");
    if (end && !request->result) end = RunCached(c, "RELEASE op");
    if (!end) {
      aborted = std::move(end.error());
      break;
    }
  }
  if (!aborted) {
    if (core::Result<void> commit = RunCached(c, "COMMIT"); commit) {
      committed_batches_.fetch_add(1);
      return;
    } else {
      aborted = std::move(commit.error());
    }
  }
  if (sqlite3_get_autocommit(c.Handle()) == 0) {
    sqlite3_exec(c.Handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  if (aborted->code != ErrorCode::kUnavailable) aborted->code = ErrorCode::kInternal;
  fail_all(*aborted);
}

core::Result<int> SqliteDatabase::Migrate() {
  int applied = 0;
  core::Result<void> done = Write([this, &applied](Connection& c) -> core::Result<void> {
    applied = 0;
    if (core::Result<void> r = c.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                      "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
        !r) {
      return r;
    }
    core::Result<int> current = AppliedVersion(c);
    if (!current) return std::unexpected(std::move(current.error()));
    const std::span<const Migration> migrations = Migrations();
    if (auto ok = CheckSchemaNotNewer("sqlite", *current, migrations); !ok) return ok;
    for (const Migration& migration : migrations) {
      if (migration.version <= *current) continue;
      if (core::Result<void> r = c.Exec(migration.sql); !r) {
        return std::unexpected(MigrationFailed("sqlite", migration, r.error()));
      }
      core::Result<Statement> record =
          c.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
      if (!record) return std::unexpected(std::move(record.error()));
      record->Bind(1, std::int64_t{migration.version}).Bind(2, Now());
      if (core::Result<void> r = record->Run(); !r) return r;
      ++applied;
    }
    return {};
  });
  if (!done) return std::unexpected(std::move(done.error()));
  return applied;
}

core::Result<int> SqliteDatabase::SchemaVersion() {
  return Read([](Connection& c) { return AppliedVersion(c); });
}

core::Result<void> SqliteDatabase::Ping() {
  return Read([](Connection& c) { return RunCached(c, "SELECT 1"); });
}

core::Result<SqliteDatabase::ReaderLease> SqliteDatabase::LeaseReader() {
  std::unique_lock lock(readers_mu_);
  readers_cv_.wait(lock, [this] { return !idle_readers_.empty(); });
  std::unique_ptr<Connection> connection = std::move(idle_readers_.back());
  idle_readers_.pop_back();
  return ReaderLease(this, std::move(connection));
}

}  // namespace kurz::adapters::sqlite
