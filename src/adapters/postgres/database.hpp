#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "adapters/postgres/connection.hpp"
#include "core/error.hpp"
#include "core/time.hpp"
#include "ports/clock.hpp"

namespace kurz::adapters::postgres {

struct PostgresOptions {
  // Most connections open at once. The first is opened by Open, the others when calls need them.
  int max_connections = 8;
  // How long a call waits for a free connection before failing with unavailable.
  std::chrono::milliseconds acquire_timeout{2000};
  // libpq's connect_timeout (seconds, per host) when the URL sets none.
  int connect_timeout_seconds = 3;
  // Attempts of a transaction that fails with a serialization failure or a deadlock.
  int transaction_attempts = 3;
  // Whether Open connects (and fails when it cannot). false: Open only checks the URL and the
  // first call connects, so a server that is down at start (a read replica) is used once it is up.
  bool connect_on_open = true;
  // What rows are stamped with (applied_at, updated_at, retention, partitions); null: the
  // system clock.
  const ports::Clock* clock = nullptr;
};

// A PostgreSQL database reached through a bounded pool of libpq connections. Every call leases a
// connection for its duration: it waits at most acquire_timeout for one (then unavailable), and a
// leased idle connection is checked first without blocking, so one the server has ended
// (pg_terminate_backend, a restart) is replaced by a new one instead of failing the call. A
// connection lost during a call fails that call with unavailable and is dropped. Each connection
// prepares a statement on its first use and then runs it by name. Thread-safe.
class PostgresDatabase {
 public:
  using Options = PostgresOptions;

  // Opens the first connection to `url` (postgres://user:pass@host:port/db?param=value, also
  // postgresql://, multi-host host1:p1,host2:p2 and target_session_attrs: libpq reads it as it
  // is). invalid_argument for another scheme or a malformed URL; unavailable when the server
  // cannot be reached (with connect_on_open). Messages show the URL with its password redacted.
  // Does not migrate.
  static core::Result<std::unique_ptr<PostgresDatabase>> Open(const std::string& url,
                                                              Options options = {});
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;
  // Closes the idle connections; no call may be running.
  ~PostgresDatabase();

  // Applies the migrations not applied yet, in order, each in its own transaction under an
  // advisory lock (so instances starting together apply each once), then creates the click
  // partitions ahead (EnsureClickPartitions). Returns how many migrations were applied. internal
  // when the database has a newer schema than this binary knows.
  core::Result<int> Migrate();
  // The newest schema version applied (0 on an empty database).
  core::Result<int> SchemaVersion();
  // Creates the monthly partitions of `clicks` for the month of `now` and the next two that do
  // not exist yet; returns how many it created. Idempotent and safe to run from several
  // instances at once. internal when the database is not migrated.
  core::Result<int> EnsureClickPartitions(core::Micros now);
  // A trivial query, for readiness checks.
  core::Result<void> Ping();

  // Now, by the options' clock.
  core::Micros Now() const { return clock_.Now(); }

  // Runs fn(Connection&) on a leased connection, each statement committing by itself.
  template <class Fn>
  auto Run(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&>;
  // Runs fn(Connection&) between BEGIN and COMMIT; a failure of fn rolls back. A serialization
  // failure or deadlock runs fn again (up to transaction_attempts times), so fn must reset
  // whatever it reports through captures.
  template <class Fn>
  auto Transaction(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&>;

  // Connections open now, idle or leased (tests, metrics).
  int OpenConnections() const;

 private:
  class Lease {
   public:
    Lease(PostgresDatabase* db, std::unique_ptr<Connection> connection)
        : db_(db), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (connection_ != nullptr) db_->Release(std::move(connection_));
    }
    Connection& Get() { return *connection_; }

   private:
    PostgresDatabase* db_;
    std::unique_ptr<Connection> connection_;
  };

  PostgresDatabase(std::string url, Options options);
  core::Result<Lease> Acquire();
  void Release(std::unique_ptr<Connection> connection);
  core::Result<void> Begin(Connection& c);
  // Ends the transaction: COMMIT when ok, else ROLLBACK. Returns the error to report and whether
  // the transaction may be run again.
  std::pair<core::Result<void>, bool> End(Connection& c, const core::Error* failed);

  template <class R, class Body>
  static R Guarded(Body&& body) noexcept;

  const std::string url_;
  const Options options_;
  const ports::Clock& clock_;
  const ConnectSettings settings_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

template <class R, class Body>
R PostgresDatabase::Guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return core::Fail(core::ErrorCode::kInternal, "out of memory");
  } catch (const std::exception& e) {
    return core::Fail(core::ErrorCode::kInternal, std::string("postgres: ") + e.what());
  } catch (...) {
    return core::Fail(core::ErrorCode::kInternal, "postgres: unknown exception");
  }
}

template <class Fn>
auto PostgresDatabase::Run(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&> {
  using R = std::invoke_result_t<Fn&, Connection&>;
  return Guarded<R>([&]() -> R {
    core::Result<Lease> lease = Acquire();
    if (!lease) return std::unexpected(std::move(lease.error()));
    return fn(lease->Get());
  });
}

template <class Fn>
auto PostgresDatabase::Transaction(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&> {
  using R = std::invoke_result_t<Fn&, Connection&>;
  return Guarded<R>([&]() -> R {
    for (int attempt = 1;; ++attempt) {
      core::Result<Lease> lease = Acquire();
      if (!lease) return std::unexpected(std::move(lease.error()));
      Connection& c = lease->Get();
      if (core::Result<void> begun = Begin(c); !begun) {
        // Lost before anything ran: another connection may do.
        if (!c.Ok() && attempt < options_.transaction_attempts) continue;
        return std::unexpected(begun.error());
      }
      R result = fn(c);
      auto [ended, retry] = End(c, result ? nullptr : &result.error());
      if (ended) return result;
      if (!retry || attempt >= options_.transaction_attempts) {
        return std::unexpected(std::move(ended.error()));
      }
    }
  });
}

}  // namespace kurz::adapters::postgres
