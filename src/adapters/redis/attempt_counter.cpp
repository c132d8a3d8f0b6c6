#include "adapters/redis/attempt_counter.hpp"

#include <algorithm>

#include "adapters/redis/guard.hpp"

namespace kurz::adapters::redis {
namespace {

// KEYS[1]: the count. ARGV[1]: the window in ms. Returns {count, ms left in the window}. A key
// found without an expiry (written by hand, or a lost PEXPIRE) gets one, so no count lives forever.
constexpr std::string_view kAddScript = R"lua(
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if n == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left}
)lua";

// KEYS[1]: the count. Takes one back; at 0 the key goes (its window with it). A missing key stays
// missing (DECR would create it at -1 without an expiry).
constexpr std::string_view kTakeBackScript = R"lua(
local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if n > 1 then
  redis.call('DECR', KEYS[1])
elseif n == 1 then
  redis.call('DEL', KEYS[1])
end
return 0
)lua";

core::Error Unexpected(const Reply& reply, std::string_view what) {
  return core::Error{core::ErrorCode::kInternal,
                     "redis attempt counter " + std::string(what) + ": " +
                         (reply.IsError() ? reply.str : std::string("unexpected reply"))};
}

}  // namespace

RedisAttemptCounter::RedisAttemptCounter(RedisClient& client, std::string key_prefix)
    : client_(client), key_prefix_(std::move(key_prefix)) {}

std::string RedisAttemptCounter::KeyOf(std::string_view key) const {
  std::string redis_key = key_prefix_;
  redis_key += "at:";
  redis_key += key;
  return redis_key;
}

Result<ports::AttemptWindow> RedisAttemptCounter::Add(std::string_view key, core::Micros window,
                                                      core::Micros /*now*/) {
  return Guard([&]() -> Result<ports::AttemptWindow> {
    const std::string redis_key = KeyOf(key);
    // Whole milliseconds, at least one: PEXPIRE 0 would delete the key at once.
    const std::string window_ms = std::to_string(std::max<core::Micros>((window + 999) / 1000, 1));
    const std::string_view args[] = {"EVAL", kAddScript, "1", redis_key, window_ms};
    auto reply = client_.Command(redis_key, args);
    if (!reply) return std::unexpected(reply.error());
    const auto& items = reply->elements;
    if (reply->type != Reply::Type::kArray || items.size() != 2 ||
        items[0].type != Reply::Type::kInteger || items[1].type != Reply::Type::kInteger) {
      return std::unexpected(Unexpected(*reply, "add"));
    }
    return ports::AttemptWindow{.count = items[0].integer, .resets_in = items[1].integer * 1000};
  });
}

Result<void> RedisAttemptCounter::TakeBack(std::string_view key, core::Micros /*now*/) {
  return Guard([&]() -> Result<void> {
    const std::string redis_key = KeyOf(key);
    const std::string_view args[] = {"EVAL", kTakeBackScript, "1", redis_key};
    auto reply = client_.Command(redis_key, args);
    if (!reply) return std::unexpected(reply.error());
    if (reply->type != Reply::Type::kInteger)
      return std::unexpected(Unexpected(*reply, "take back"));
    return {};
  });
}

}  // namespace kurz::adapters::redis
