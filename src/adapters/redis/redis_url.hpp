#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace kurz::adapters::redis {

struct Endpoint {
  std::string host;
  std::uint16_t port = 6379;

  std::string ToString() const;  // "host:port" ("[::1]:port" for IPv6)
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Where Redis is and how to talk to it, from a --cache URL:
//   redis://[[user]:password@]host[:port][/db]
//   redis-cluster://[[user]:password@]host:port,host:port,...   (seed nodes; db 0 only)
struct RedisOptions {
  bool cluster = false;
  std::vector<Endpoint> nodes;  // the server, or the cluster's seed nodes
  int db = 0;
  std::string username;  // empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  // Bound on each exchange with a server (connect, or send and read the replies). Callers get
  // unavailable after it, never a hang.
  std::chrono::milliseconds timeout{150};
  // After a node failed (timeout, refused connection), calls to it fail at once for this long,
  // so that a hung server costs one timeout per period, not one per request.
  std::chrono::milliseconds down_for{250};
  // Idle connections kept per node; more are opened when more threads call at once.
  std::size_t max_idle_per_node = 16;
};

// invalid_argument (naming the problem) for anything but the two forms above.
core::Result<RedisOptions> ParseRedisUrl(std::string_view url);

// The URL with its password replaced by "***", for logs and errors.
std::string RedactRedisUrl(std::string_view url);

}  // namespace kurz::adapters::redis
