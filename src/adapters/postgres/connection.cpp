#include "adapters/postgres/connection.hpp"

#include <poll.h>

#include <libpq-fe.h>

#include <charconv>

namespace kurz::adapters::postgres {
namespace {

using core::ErrorCode;
using core::Fail;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

std::string Trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

void AppendQuoted(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

Param Param::Bytes(std::string_view bytes) {
  Param p(bytes);
  p.binary_ = true;
  return p;
}

std::string TextArray(std::span<const std::string> values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    AppendQuoted(out, values[i]);
  }
  out += '}';
  return out;
}

std::string TextArray(std::span<const std::optional<std::string>> values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    if (const std::optional<std::string>& value = values[i]) {
      AppendQuoted(out, *value);
    } else {
      out += "NULL";
    }
  }
  out += '}';
  return out;
}

std::string IntArray(std::span<const std::int64_t> values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}

std::string Ts(int n) { return TsOf("$" + std::to_string(n) + "::int8"); }

std::string TsOf(std::string_view int8_expression) {
  const std::string e(int8_expression);
  return "('epoch'::timestamptz + (" + e + " / 1000000) * interval '1 second' + (" + e +
         " % 1000000) * interval '1 microsecond')";
}

std::string MicrosOf(std::string_view expression) {
  return "(extract(epoch FROM " + std::string(expression) + ") * 1000000)::int8";
}

std::string DateParam(int n) { return "(DATE '1970-01-01' + $" + std::to_string(n) + "::int4)"; }

std::string DaysOf(std::string_view expression) {
  return "(" + std::string(expression) + " - DATE '1970-01-01')";
}

Rows::Rows(pg_result* result) : result_(result) {}

Rows::Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}

int Rows::Size() const { return result_ != nullptr ? PQntuples(result_) : 0; }

std::int64_t Rows::Affected() const {
  if (result_ == nullptr) return 0;
  const std::string_view text = PQcmdTuples(result_);
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

bool Rows::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

std::string_view Rows::View(int row, int column) const {
  return std::string_view(PQgetvalue(result_, row, column),
                          static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::int64_t Rows::Int(int row, int column) const {
  const std::string_view text = View(row, column);
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

std::optional<std::int64_t> Rows::OptionalInt(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Int(row, column);
}

core::ErrorCode CodeOf(std::string_view sqlstate) {
  if (sqlstate == "23505") return ErrorCode::kConflict;
  if (sqlstate == "57014" || sqlstate == "55P03") return ErrorCode::kTimeout;
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "40001" ||
      sqlstate == "40P01" || sqlstate == "25006") {
    return ErrorCode::kUnavailable;
  }
  const std::string_view kind = sqlstate.substr(0, 2);
  if (kind == "23" || kind == "22") return ErrorCode::kInvalidArgument;
  if (kind == "08" || kind == "53" || kind == "58") return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    std::size_t end = out.find_first_of("/?", start);
    if (end == std::string::npos) end = out.size();
    const std::size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a URI query parameter or in a key=value connection string.
  for (std::size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    const std::size_t value = pos + 9;
    std::size_t end = out.find_first_of("& ", value);
    if (end == std::string::npos) end = out.size();
    out.replace(value, end - value, "***");
  }
  return out;
}

core::Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url,
                                                           const ConnectSettings& settings) {
  // Defaults first: the URL, expanded in place of dbname, overrides them.
  const std::string timeout = std::to_string(settings.connect_timeout_seconds);
  const char* keywords[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                            nullptr};
  const char* values[] = {timeout.c_str(), settings.application_name.c_str(), "UTF8", url.c_str(),
                          nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Fail(ErrorCode::kInternal, "postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Fail(ErrorCode::kUnavailable,
                "postgres: cannot connect to " + RedactUrl(url) + ": " + message);
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

core::Error Connection::Failure(pg_result* result, std::string_view what) {
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* constraint =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  last_sqlstate_ = sqlstate != nullptr ? sqlstate : "";
  last_constraint_ = constraint != nullptr ? constraint : "";
  std::string message;
  if (result != nullptr) message = Trimmed(PQresultErrorMessage(result));
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  // A lost connection is unavailable whatever the last message said (a terminated backend says
  // 57P01, a broken network nothing at all).
  ErrorCode code = ErrorCode::kInternal;
  if (PQstatus(conn_) != CONNECTION_OK) {
    code = ErrorCode::kUnavailable;
  } else if (!last_sqlstate_.empty()) {
    code = CodeOf(last_sqlstate_);
  }
  std::string detail = "postgres: ";
  detail += message;
  if (!last_sqlstate_.empty()) detail += " (SQLSTATE " + last_sqlstate_ + ")";
  detail += " in: ";
  detail += what.substr(0, 120);
  return core::Error{code, std::move(detail)};
}

core::Result<Rows> Connection::Query(std::string_view sql, std::span<const Param> params) {
  last_sqlstate_.clear();
  last_constraint_.clear();
  for (const Param& p : params) {
    if (!p.null() && !p.binary() && p.value().find('\0') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, "postgres: text with a NUL character");
    }
  }
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "k" + std::to_string(prepared_.size() + 1);
    const std::string text(sql);
    PGresult* prepared =
        PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(params.size()), nullptr);
    Rows owner(prepared);  // cleared at scope exit
    if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
      return std::unexpected(Failure(prepared, sql));
    }
    it = prepared_.emplace(text, std::move(name)).first;
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null() ? nullptr : params[i].value().c_str();
    lengths[i] = static_cast<int>(params[i].value().size());
    formats[i] = params[i].binary() ? 1 : 0;
  }
  PGresult* result =
      PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()), values.data(),
                     lengths.data(), formats.data(), /*resultFormat=*/0);
  Rows rows(result);
  const ExecStatusType status = PQresultStatus(result);
  if (result == nullptr || (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)) {
    return std::unexpected(Failure(result, sql));
  }
  return rows;
}

core::Result<void> Connection::Exec(const std::string& sql) {
  last_sqlstate_.clear();
  last_constraint_.clear();
  PGresult* result = PQexec(conn_, sql.c_str());
  Rows owner(result);
  const ExecStatusType status = PQresultStatus(result);
  if (result == nullptr || (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)) {
    return std::unexpected(Failure(result, sql));
  }
  return {};
}

bool Connection::Ok() const { return PQstatus(conn_) == CONNECTION_OK; }

bool Connection::InTransaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

bool Connection::CheckIdle() {
  // Something may have arrived while idle: a notice, a parameter change, or the error and then
  // end-of-file of a backend that was terminated. libpq reads one of them per call (and hands an
  // error to the notice processor), so read until nothing is left or the connection is gone.
  for (int reads = 0; reads < 8; ++reads) {
    if (PQstatus(conn_) != CONNECTION_OK) return false;
    const int fd = PQsocket(conn_);
    if (fd < 0) return false;
    pollfd waiting{fd, POLLIN, 0};
    const int ready = poll(&waiting, 1, 0);
    if (ready < 0) return false;
    if (ready == 0) return PQtransactionStatus(conn_) == PQTRANS_IDLE;
    if (PQconsumeInput(conn_) == 0) return false;
    (void)PQisBusy(conn_);  // parses what was read
    while (PGnotify* notify = PQnotifies(conn_)) PQfreemem(notify);
  }
  return false;  // a stream of unexpected messages: do not trust it
}

int Connection::BackendPid() const { return PQbackendPID(conn_); }

}  // namespace kurz::adapters::postgres
