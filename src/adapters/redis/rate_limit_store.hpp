#pragma once

#include <string>
#include <string_view>

#include "adapters/redis/client.hpp"
#include "ports/rate_limit_store.hpp"

namespace kurz::adapters::redis {

using core::Result;

// GCRA limits in Redis: each key's theoretical arrival time is one string key
// "<prefix>rl:<key>", read, checked and written by one Lua script (atomic on the server, and on
// the one node that holds the key in a cluster). The script is run by its SHA-1 (EVALSHA), and
// sent whole (EVAL, which also caches it) when the server does not know it yet (NOSCRIPT).
class RedisRateLimitStore final : public ports::RateLimitStore {
 public:
  explicit RedisRateLimitStore(RedisClient& client, std::string key_prefix = "kurz:");

  Result<core::GcraDecision> Check(std::string_view key, const core::GcraLimit& limit,
                                   core::Micros now) override;

  // The Lua source of the check (core/gcra.cpp, line by line).
  static std::string_view Script();

 private:
  RedisClient& client_;
  std::string key_prefix_;
  std::string script_sha_;  // lowercase hex SHA-1 of Script()
};

}  // namespace kurz::adapters::redis
