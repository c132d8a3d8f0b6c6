#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace kurz::adapters::sqlite {

// An SQLite result code as a core error: constraint violations are conflict (unique and primary
// keys) or invalid_argument (checks, foreign keys); busy, I/O and disk-full are unavailable;
// anything else is internal. `what` says which operation failed.
core::Error ToError(int rc, sqlite3* db, std::string_view what);

// A prepared statement borrowed from a Connection's cache for one use: bind, step, read columns.
// Reset (bindings cleared) when it goes out of scope, so the cache can hand it out again.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, bool* in_use, bool owned);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based. Text is copied. A nullopt binds NULL.
  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, std::optional<std::int64_t> value);
  Statement& BindNull(int index);

  // Steps once: true when a row is ready, false when the statement is done.
  core::Result<bool> Step();
  // Steps to the end, ignoring rows (for INSERT/UPDATE/DELETE and PRAGMAs).
  core::Result<void> Run();

  // Columns are 0-based.
  std::int64_t Int(int column) const;
  std::optional<std::int64_t> OptionalInt(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache's flag; null when owned
  bool owned_;    // not cached (the cached copy was in use): finalized here
  int bind_error_ = 0;
};

// One SQLite connection and its cache of prepared statements. Not thread-safe: it is used by one
// thread at a time (the writer thread, or the reader that leased it).
class Connection {
 public:
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only,
                                                        std::chrono::milliseconds busy_timeout);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // The cached prepared statement for sql (prepared on first use).
  core::Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without caching them (migrations, PRAGMAs).
  core::Result<void> Exec(const std::string& sql);
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  std::int64_t Changes() const;
  sqlite3* Handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  sqlite3* db_;
  std::unordered_map<std::string, Cached, Hash, std::equal_to<>> cache_;
};

// A read transaction on a reader connection, so that several SELECTs see one snapshot. Ends
// (COMMIT) when it goes out of scope.
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& connection) : connection_(connection) {}
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction();
  core::Result<void> Begin();

 private:
  Connection& connection_;
  bool open_ = false;
};

}  // namespace kurz::adapters::sqlite
