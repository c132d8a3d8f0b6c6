#include "adapters/redis/rate_limit_store.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include <openssl/evp.h>

#include "adapters/redis/guard.hpp"

namespace kurz::adapters::redis {
namespace {

// core::GcraCheck in Lua. Lua numbers are doubles: exact for integers below 2^53, which covers
// microseconds since 1970 (about 2^51 today) plus a capacity of at most 10^12. Numbers are
// written with %d, since tostring() would round them to 14 digits. The key lives until its
// bucket is full again (TAT <= now means the same as no key), plus a second for instances whose
// clocks run a little behind Redis'.
// KEYS[1]: the TAT key. ARGV: rate per second, burst (both already clamped), now in µs.
// Returns {allowed, new_tat, remaining, retry_after_us, reset_after_us}.
constexpr std::string_view kScript = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local interval = math.floor(1000000 / rate)
local capacity = burst * interval
local stored = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local tat = math.max(stored, now)
local new_tat = tat + interval
if new_tat - now <= capacity then
  local ttl_ms = math.floor((new_tat - now + 999) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', string.format('%d', ttl_ms))
  return {1, new_tat, math.floor((capacity - (new_tat - now)) / interval), 0, new_tat - now}
end
return {0, stored, 0, new_tat - capacity - now, tat - now}
)lua";

std::string Sha1Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    return {};  // EVALSHA then fails with NOSCRIPT every time, and EVAL still works
  }
  std::string hex;
  hex.reserve(std::size_t{size} * 2);
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned int i = 0; i < size; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0x0F];
  }
  return hex;
}

}  // namespace

std::string_view RedisRateLimitStore::Script() { return kScript; }

RedisRateLimitStore::RedisRateLimitStore(RedisClient& client, std::string key_prefix)
    : client_(client), key_prefix_(std::move(key_prefix)), script_sha_(Sha1Hex(kScript)) {}

Result<core::GcraDecision> RedisRateLimitStore::Check(std::string_view key,
                                                      const core::GcraLimit& limit,
                                                      core::Micros now) {
  return Guard([&]() -> Result<core::GcraDecision> {
    // The same clamping as core::GcraCheck, so both give the same answers.
    constexpr std::int64_t kMax = 1'000'000;
    const std::string rate =
        std::to_string(std::clamp<std::int64_t>(limit.rate_per_second, 1, kMax));
    const std::string burst = std::to_string(std::clamp<std::int64_t>(limit.burst, 1, kMax));
    const std::string at = std::to_string(now);
    std::string redis_key = key_prefix_;
    redis_key += "rl:";
    redis_key += key;

    const std::string_view by_sha[] = {"EVALSHA", script_sha_, "1", redis_key, rate, burst, at};
    auto reply = client_.Command(redis_key, by_sha);
    if (reply && reply->IsError("NOSCRIPT")) {
      const std::string_view whole[] = {"EVAL", kScript, "1", redis_key, rate, burst, at};
      reply = client_.Command(redis_key, whole);
    }
    if (!reply) return std::unexpected(reply.error());
    const auto& items = reply->elements;
    if (reply->type != Reply::Type::kArray || items.size() != 5 ||
        std::ranges::any_of(items,
                            [](const Reply& r) { return r.type != Reply::Type::kInteger; })) {
      return core::Fail(core::ErrorCode::kInternal,
                        "redis rate limit script: " +
                            (reply->IsError() ? reply->str : std::string("unexpected reply")));
    }
    return core::GcraDecision{
        .allowed = items[0].integer == 1,
        .new_tat = items[1].integer,
        .remaining = items[2].integer,
        .retry_after_us = items[3].integer,
        .reset_after_us = items[4].integer,
    };
  });
}

}  // namespace kurz::adapters::redis
