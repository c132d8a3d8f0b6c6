#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"

// libpq's handles, declared here so that this header does not need libpq-fe.h.
struct pg_conn;
struct pg_result;

namespace kurz::adapters::postgres {

// A query parameter, sent as text (or raw bytes for bytea). PostgreSQL infers its type from the
// statement, so statements cast where it matters ($1::int8[]).
class Param {
 public:
  Param() = default;  // NULL
  Param(std::nullopt_t) {}
  Param(std::string_view text) : value_(text), null_(false) {}
  Param(std::string text) : value_(std::move(text)), null_(false) {}
  Param(const char* text) : value_(text), null_(false) {}
  Param(bool value) : value_(value ? "t" : "f"), null_(false) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) Param(T value) : value_(std::to_string(value)), null_(false) {}
  template <class T>
  Param(const std::optional<T>& value) {
    if (value) *this = Param(*value);
  }
  // Raw bytes for a bytea parameter (binary format: any byte, NUL included).
  static Param Bytes(std::string_view bytes);

  bool null() const { return null_; }
  bool binary() const { return binary_; }
  const std::string& value() const { return value_; }

 private:
  std::string value_;
  bool null_ = true;
  bool binary_ = false;
};

// PostgreSQL array literals for unnest($1::text[]) and the like: one round trip for a whole batch
// instead of a statement per row.
std::string TextArray(std::span<const std::string> values);
// A nullopt element is NULL.
std::string TextArray(std::span<const std::optional<std::string>> values);
std::string IntArray(std::span<const std::int64_t> values);

// SQL for a timestamptz from microseconds since the Unix epoch in parameter $n (exact: whole
// seconds and the remaining microseconds are added separately, no float rounding).
std::string Ts(int n);
// The same for an int8 expression (an unnested array column).
std::string TsOf(std::string_view int8_expression);
// SQL for the microseconds since the epoch of a timestamptz expression.
std::string MicrosOf(std::string_view expression);
// SQL for a date from days since 1970-01-01 in parameter $n, and back.
std::string DateParam(int n);
std::string DaysOf(std::string_view expression);

// The rows of a query's answer. Columns and rows are 0-based; values come as text.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* result);
  Rows(Rows&&) noexcept;
  Rows& operator=(Rows&&) noexcept;
  ~Rows();

  int Size() const;
  // Rows inserted, updated or deleted by the statement (PQcmdTuples).
  std::int64_t Affected() const;
  bool IsNull(int row, int column) const;
  std::string_view View(int row, int column) const;
  std::string Text(int row, int column) const { return std::string(View(row, column)); }
  // 0 for NULL or a value that is not an integer.
  std::int64_t Int(int row, int column) const;
  std::optional<std::int64_t> OptionalInt(int row, int column) const;
  bool Bool(int row, int column) const { return View(row, column) == "t"; }

 private:
  pg_result* result_ = nullptr;
};

// What Connection::Open needs besides the URL.
struct ConnectSettings {
  int connect_timeout_seconds = 3;  // used when the URL sets none
  std::string application_name = "kurz";
};

// One libpq connection and the statements prepared on it (each SQL text is prepared once per
// connection, on first use, and then executed by name). Not thread-safe: one thread at a time
// uses it (whoever leased it from the pool).
class Connection {
 public:
  // Connects (blocking, at most the connect timeout per host). unavailable with libpq's message
  // when the server cannot be reached or refuses the login.
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& url,
                                                        const ConnectSettings& settings);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs sql as a prepared statement with these parameters.
  core::Result<Rows> Query(std::string_view sql, std::span<const Param> params);
  template <class... P>
  core::Result<Rows> Query(std::string_view sql, P&&... params) {
    const std::array<Param, sizeof...(P)> bound{Param(std::forward<P>(params))...};
    return Query(sql, std::span<const Param>(bound));
  }
  // Runs one or more statements without parameters or preparing (migrations, BEGIN, COMMIT).
  core::Result<void> Exec(const std::string& sql);

  // False once the connection is lost (the server ended it, the network broke).
  bool Ok() const;
  // Whether a transaction is open (or failed and not yet rolled back).
  bool InTransaction() const;
  // Whether an idle connection is still usable: reads what the server sent meanwhile without
  // blocking (a terminated backend leaves an error and end-of-file) and checks the status.
  bool CheckIdle();
  // The server process serving this connection.
  int BackendPid() const;

  // The SQLSTATE and constraint name of the last failed call ("" when unknown), so that stores
  // can tell which unique key a conflict was about.
  const std::string& LastSqlState() const { return last_sqlstate_; }
  const std::string& LastConstraint() const { return last_constraint_; }

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  core::Error Failure(pg_result* result, std::string_view what);

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  pg_conn* conn_;
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> prepared_;  // sql -> name
  std::string last_sqlstate_;
  std::string last_constraint_;
};

// The error for a SQLSTATE: unique violations are conflict; other integrity violations and data
// exceptions (too long, malformed, out of range) are invalid_argument; connection failures,
// shutdowns, resource shortages, serialization failures, deadlocks and writes to a read-only
// server (a replica after failover) are unavailable; a cancelled statement (statement_timeout)
// is timeout; anything else internal.
core::ErrorCode CodeOf(std::string_view sqlstate);

// The URL with its password replaced by "***" (user:pass@host and password=...), for messages.
std::string RedactUrl(std::string_view url);

}  // namespace kurz::adapters::postgres
