#pragma once

#include <string>
#include <string_view>

#include "adapters/redis/client.hpp"
#include "ports/attempt_counter.hpp"

namespace kurz::adapters::redis {

using core::Result;

// Attempt windows in Redis: each key's count is one integer key "<prefix>at:<key>" whose expiry
// is the window's end, so the window is kept by Redis' clock (instances need not agree on theirs)
// and a key disappears by itself when its window closes. Each call is one small Lua script (EVAL),
// atomic on the server and on the one cluster node that holds the key.
class RedisAttemptCounter final : public ports::AttemptCounter {
 public:
  explicit RedisAttemptCounter(RedisClient& client, std::string key_prefix = "kurz:");

  Result<ports::AttemptWindow> Add(std::string_view key, core::Micros window,
                                   core::Micros now) override;
  Result<void> TakeBack(std::string_view key, core::Micros now) override;

 private:
  std::string KeyOf(std::string_view key) const;

  RedisClient& client_;
  std::string key_prefix_;
};

}  // namespace kurz::adapters::redis
