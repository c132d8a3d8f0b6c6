#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/clickhouse/clickhouse_url.hpp"
#include "core/error.hpp"

// ClickHouse's HTTP interface, synchronously over Boost.Beast (Boost stays in client.cpp).
namespace kurz::adapters::clickhouse {

struct ClientOptions {
  // For everything one call does: resolving, connecting, sending and the whole answer.
  std::chrono::milliseconds timeout{10'000};
  // Keep-alive connections kept between calls.
  std::size_t max_idle_connections = 4;
};

class Connection;

// Runs statements over a small pool of keep-alive connections. Thread-safe: each call takes a
// connection of its own. Errors: the server unreachable (refused, reset, no connection within the
// timeout) is unavailable; no answer within the timeout is timeout; a ClickHouse error carries its
// `Code: NN, e.displayText() = ...` text, with the code mapped (unknown table or database:
// not_found; too many queries or parts, memory limit: unavailable; others: internal).
class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseUrl url, ClientOptions options = {});
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // Runs one statement sent as the request body and returns the answer body. `settings` are
  // extra URL parameters ("name=value&name=value", values URL-safe).
  core::Result<std::string> Query(std::string_view sql, std::string_view settings = {});

  // Runs `statement` (an INSERT ... FORMAT ..., sent in the URL) with `data` as the request body.
  core::Result<void> Insert(std::string_view statement, std::string data,
                            std::string_view settings = {});

  const ClickHouseUrl& url() const { return url_; }

 private:
  core::Result<std::string> Post(const std::string& target, std::string body);
  std::unique_ptr<Connection> TakeIdle();
  void GiveBack(std::unique_ptr<Connection> connection);

  const ClickHouseUrl url_;
  const ClientOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // most recently used last
};

// The ClickHouse error code in a `Code: NN, ...` answer, or -1.
int ClickHouseErrorCode(std::string_view body);

}  // namespace kurz::adapters::clickhouse
