#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "adapters/sqlite/connection.hpp"
#include "core/error.hpp"
#include "core/time.hpp"
#include "ports/clock.hpp"

namespace kurz::adapters::sqlite {

struct SqliteOptions {
  // Reader connections (WAL lets them read while the writer writes).
  int read_connections = 4;
  // How long a statement waits for a lock held by another process (e.g. `kurz migrate`).
  std::chrono::milliseconds busy_timeout{1000};
  // Most write operations committed together in one transaction.
  std::size_t max_batch = 1024;
  // Writes waiting beyond this are refused at once (unavailable) instead of queueing forever.
  std::size_t max_queued_writes = 100'000;
  // What rows are stamped with (applied_at, updated_at, retention, partitions); null: the
  // system clock.
  const ports::Clock* clock = nullptr;
};

// An SQLite database file in WAL mode with synchronous=FULL: a write is on disk when Write
// returns OK, so it survives a crash of the process or of the machine.
//
// Writes go through one writer connection owned by a writer thread that commits in groups: it
// takes every queued operation, runs them in one BEGIN IMMEDIATE ... COMMIT, each inside its own
// SAVEPOINT (a failing operation is rolled back alone), and then wakes each caller with its own
// result. One fsync thus serves many concurrent writers. Reads lease a connection from a small
// pool and run concurrently with the writer.
class SqliteDatabase {
 public:
  using Options = SqliteOptions;
  // A write operation. It runs on the writer thread inside a transaction it must not end, and
  // must not call Write (that would wait for itself); a failure rolls back only what this
  // operation did. Results go out through captured references.
  using WriteOp = std::function<core::Result<void>(Connection&)>;

  // Opens (creating when missing) the database file; its directory must exist. Does not migrate.
  static core::Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                            Options options = {});
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  // Runs the writes still queued, stops the writer thread and closes every connection.
  ~SqliteDatabase();

  // Applies the migrations not applied yet, in order, in one transaction; returns how many.
  // internal when the database has a newer schema than this binary knows.
  core::Result<int> Migrate();
  // The newest schema version applied (0 on a fresh file).
  core::Result<int> SchemaVersion();

  // Runs op in the next group commit and blocks until that commit is durable. Returns op's own
  // result, or unavailable/internal when the transaction could not be committed.
  core::Result<void> Write(WriteOp op);

  // Runs fn(Connection&) on a leased reader connection and returns its result. Exceptions become
  // internal errors.
  template <class Fn>
  auto Read(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&>;

  // A trivial query on a reader connection, for readiness checks.
  core::Result<void> Ping();

  // Now, by the options' clock.
  core::Micros Now() const { return clock_.Now(); }

  // Writes waiting for the writer thread (metrics, tests).
  std::size_t PendingWrites() const;
  // Transactions the writer thread has committed so far.
  std::uint64_t CommittedBatches() const { return committed_batches_.load(); }

 private:
  struct Request;
  class ReaderLease {
   public:
    ReaderLease(SqliteDatabase* db, std::unique_ptr<Connection> connection)
        : db_(db), connection_(std::move(connection)) {}
    ReaderLease(ReaderLease&&) = default;
    ReaderLease& operator=(ReaderLease&&) = delete;
    ~ReaderLease();
    Connection& Get() { return *connection_; }

   private:
    SqliteDatabase* db_;
    std::unique_ptr<Connection> connection_;
  };

  explicit SqliteDatabase(Options options);
  core::Result<ReaderLease> LeaseReader();
  void WriterLoop();
  void RunBatch(std::vector<Request*>& batch);

  Options options_;
  const ports::Clock& clock_;
  std::unique_ptr<Connection> writer_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Request*> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;
  std::atomic<std::uint64_t> committed_batches_{0};

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
};

template <class Fn>
auto SqliteDatabase::Read(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&> {
  try {
    core::Result<ReaderLease> lease = LeaseReader();
    if (!lease) return std::unexpected(std::move(lease.error()));
    return fn(lease->Get());
  } catch (const std::bad_alloc&) {
    return core::Fail(core::ErrorCode::kInternal, "out of memory");
  } catch (const std::exception& e) {
    return core::Fail(core::ErrorCode::kInternal, std::string("sqlite read: ") + e.what());
  } catch (...) {
    return core::Fail(core::ErrorCode::kInternal, "sqlite read: unknown exception");
  }
}

}  // namespace kurz::adapters::sqlite
