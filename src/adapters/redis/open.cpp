#include "adapters/redis/open.hpp"

#include <memory>
#include <string>

#include "adapters/redis/attempt_counter.hpp"
#include "adapters/redis/client.hpp"
#include "adapters/redis/invalidation_bus.hpp"
#include "adapters/redis/rate_limit_store.hpp"
#include "adapters/redis/realtime_counters.hpp"
#include "adapters/redis/redis_url.hpp"
#include "adapters/redis/shared_cache.hpp"

namespace kurz::adapters::redis {
namespace {

struct Bundle {
  std::unique_ptr<RedisClient> client;
  std::unique_ptr<RedisSharedCache> cache;
  std::unique_ptr<RedisInvalidationBus> bus;
  std::unique_ptr<RedisRateLimitStore> limits;
  std::unique_ptr<RedisAttemptCounter> attempts;
  std::unique_ptr<RedisRealtimeCounters> realtime;
  Bundle() = default;
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;
  ~Bundle() {
    bus.reset();  // stops its subscriber thread before the client goes
  }
};

}  // namespace

core::Result<SharedTier> Open(std::string_view url, const CacheOptions& options) {
  auto client = RedisClient::Open(url);
  if (!client) return std::unexpected(client.error());
  auto bundle = std::make_shared<Bundle>();
  bundle->client = std::move(*client);
  const std::string prefix = options.name_space + ":";
  bundle->cache = std::make_unique<RedisSharedCache>(*bundle->client, prefix);
  bundle->bus = std::make_unique<RedisInvalidationBus>(*bundle->client, prefix + "invalidate");
  bundle->limits = std::make_unique<RedisRateLimitStore>(*bundle->client, prefix);
  bundle->attempts = std::make_unique<RedisAttemptCounter>(*bundle->client, prefix);
  bundle->realtime = std::make_unique<RedisRealtimeCounters>(*bundle->client, prefix);
  SharedTier out;
  out.cache = bundle->cache.get();
  out.bus = bundle->bus.get();
  out.limits = bundle->limits.get();
  out.attempts = bundle->attempts.get();
  out.realtime = bundle->realtime.get();
  out.description = RedactRedisUrl(url);
  // Ready when Redis answers and the invalidation subscription is up (until it is, deletes made
  // on other instances do not reach this one's L1).
  out.ping = [client = bundle->client.get(), bus = bundle->bus.get()]() -> core::Result<void> {
    if (auto ok = client->Ping(); !ok) return ok;
    if (!bus->subscribed()) {
      return core::Fail(core::ErrorCode::kUnavailable, "invalidation subscription not up yet");
    }
    return {};
  };
  out.owner = std::move(bundle);
  return out;
}

}  // namespace kurz::adapters::redis
