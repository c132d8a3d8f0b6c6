#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/redis/redis_url.hpp"
#include "core/error.hpp"

struct redisContext;

namespace kurz::adapters::redis {

using Deadline = std::chrono::steady_clock::time_point;

// One reply of the RESP2 protocol, owned (hiredis' reply objects are freed at once).
struct Reply {
  enum class Type : std::uint8_t { kNil, kString, kStatus, kInteger, kError, kArray };

  Type type = Type::kNil;
  std::string str;  // kString, kStatus and kError
  long long integer = 0;
  std::vector<Reply> elements;  // kArray

  bool IsError() const { return type == Type::kError; }
  // An error reply whose message starts with this word ("MOVED", "ASK", "NOSCRIPT").
  bool IsError(std::string_view word) const;
};

// A command's arguments, sent binary-safe.
using Args = std::span<const std::string_view>;

// One connection to one server through hiredis' synchronous API, used by one thread at a time.
// All I/O is bounded by a deadline (poll() before every read and write, and MSG_NOSIGNAL, so a
// closed socket never raises SIGPIPE). Any transport failure breaks the connection for good:
// the reply stream may be out of step, so its owner must discard it.
class Connection {
 public:
  // Connects and authenticates (AUTH, SELECT db) by the deadline; unavailable otherwise.
  static core::Result<std::unique_ptr<Connection>> Open(const Endpoint& endpoint,
                                                        const RedisOptions& options,
                                                        Deadline deadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends the commands in one write and reads one reply each. Redis error replies are replies;
  // unavailable when the exchange fails or does not finish by the deadline.
  core::Result<std::vector<Reply>> Pipeline(std::span<const Args> commands, Deadline deadline);
  core::Result<Reply> Command(Args args, Deadline deadline);

  // For subscribers: sends a command without waiting for its reply.
  core::Result<void> Send(Args args, Deadline deadline);
  // The next reply, waiting until the deadline; nullopt when none came by then (the connection
  // stays usable). unavailable when the connection failed.
  core::Result<std::optional<Reply>> Read(Deadline deadline);

  bool broken() const { return broken_; }
  // Whether the failure was the server closing the connection before answering (after a server
  // restart or CLIENT KILL): the command was not executed and may be retried elsewhere.
  bool closed_by_peer() const { return closed_by_peer_; }
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  Connection(redisContext* context, Endpoint endpoint);
  core::Result<void> Write(std::string_view bytes, Deadline deadline);
  core::Error Fail(std::string_view what);
  core::Error FailFromContext();

  redisContext* context_;
  Endpoint endpoint_;
  bool broken_ = false;
  bool closed_by_peer_ = false;
};

}  // namespace kurz::adapters::redis
