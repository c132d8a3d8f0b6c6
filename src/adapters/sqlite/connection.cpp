#include "adapters/sqlite/connection.hpp"

#include <sqlite3.h>

#include <utility>

namespace kurz::adapters::sqlite {

using core::ErrorCode;

core::Error ToError(int rc, sqlite3* db, std::string_view what) {
  std::string detail(what);
  detail += ": ";
  detail += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      code = (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
                 ? ErrorCode::kConflict
                 : ErrorCode::kInvalidArgument;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_NOMEM:
      code = ErrorCode::kUnavailable;
      break;
    default:
      break;
  }
  return core::Error{code, std::move(detail)};
}

Statement::Statement(sqlite3_stmt* stmt, bool* in_use, bool owned)
    : stmt_(stmt), in_use_(in_use), owned_(owned) {}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      owned_(other.owned_),
      bind_error_(other.bind_error_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (in_use_ != nullptr) *in_use_ = false;
}

Statement& Statement::Bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::optional<std::int64_t> value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

core::Result<bool> Statement::Step() {
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (bind_error_ != 0) return std::unexpected(ToError(bind_error_, db, "bind"));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The statement's own error, not whatever the connection did last.
  return std::unexpected(ToError(sqlite3_extended_errcode(db), db, sqlite3_sql(stmt_)));
}

core::Result<void> Statement::Run() {
  while (true) {
    core::Result<bool> row = Step();
    if (!row) return std::unexpected(std::move(row.error()));
    if (!*row) return {};
  }
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::optional<std::int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

core::Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool read_only,
                                                           std::chrono::milliseconds busy_timeout) {
  // Each connection is used by one thread at a time, so SQLite's own mutexes are not needed.
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
              (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    core::Error error = ToError(rc, db, "open " + path);
    sqlite3_close_v2(db);
    return std::unexpected(std::move(error));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

core::Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Statement(it->second.stmt, &it->second.in_use, false);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(ToError(rc, db_, "prepare " + std::string(sql)));
  if (it != cache_.end()) return Statement(stmt, nullptr, true);  // nested use of the same SQL
  auto inserted = cache_.emplace(std::string(sql), Cached{stmt, true}).first;
  return Statement(stmt, &inserted->second.in_use, false);
}

core::Result<void> Connection::Exec(const std::string& sql) {
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(ToError(rc, db_, "exec"));
  return {};
}

std::int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

ReadTransaction::~ReadTransaction() {
  if (!open_) return;
  if (core::Result<Statement> commit = connection_.Prepare("COMMIT"); commit) {
    if (!commit->Run()) sqlite3_exec(connection_.Handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

core::Result<void> ReadTransaction::Begin() {
  core::Result<Statement> begin = connection_.Prepare("BEGIN");
  if (!begin) return std::unexpected(std::move(begin.error()));
  if (core::Result<void> ran = begin->Run(); !ran) return ran;
  open_ = true;
  return {};
}

}  // namespace kurz::adapters::sqlite
