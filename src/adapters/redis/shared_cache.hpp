#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adapters/redis/client.hpp"
#include "ports/shared_cache.hpp"

namespace kurz::adapters::redis {

using core::Result;

// The shared cache in Redis: one string key per code, "<prefix>link:<code>", written with SET PX
// so the TTL is part of the same command. The value is a small text record (see the .cpp).
class RedisSharedCache final : public ports::SharedCache {
 public:
  explicit RedisSharedCache(RedisClient& client, std::string key_prefix = "kurz:");

  Result<std::optional<ports::CachedRedirect>> Get(std::string_view code) override;
  Result<void> Put(std::string_view code, const ports::CachedRedirect& value,
                   core::Micros ttl) override;
  Result<bool> PutIfAbsent(std::string_view code, const ports::CachedRedirect& value,
                           core::Micros ttl) override;
  Result<void> Remove(std::string_view code) override;

  // The record stored for value, and back; nullopt for anything not written by Encode.
  static std::string Encode(const ports::CachedRedirect& value);
  static std::optional<ports::CachedRedirect> Decode(std::string_view record);

 private:
  std::string KeyOf(std::string_view code) const;

  RedisClient& client_;
  std::string key_prefix_;
};

}  // namespace kurz::adapters::redis
