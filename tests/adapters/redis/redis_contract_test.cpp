// The SharedCache, InvalidationBus, RateLimitStore and RealtimeCounters contracts against real
// Redis: one server
// ($KURZ_TEST_REDIS_URL) and a 3-master cluster ($KURZ_TEST_REDIS_CLUSTER_URL), both started by
// scripts/services/redis.
#include "adapters/contract/invalidation_bus_contract.hpp"
#include "adapters/contract/rate_limit_store_contract.hpp"
#include "adapters/contract/realtime_counters_contract.hpp"
#include "adapters/contract/shared_cache_contract.hpp"
#include "adapters/redis/redis_test_support.hpp"

namespace kurz::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, SharedCacheContract, RedisSingleBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, InvalidationBusContract, RedisSingleBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, RateLimitStoreContract, RedisSingleBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, RealtimeCountersContract, RedisSingleBackend);

INSTANTIATE_TYPED_TEST_SUITE_P(RedisCluster, SharedCacheContract, RedisClusterBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(RedisCluster, InvalidationBusContract, RedisClusterBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(RedisCluster, RateLimitStoreContract, RedisClusterBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(RedisCluster, RealtimeCountersContract, RedisClusterBackend);

}  // namespace kurz::testing
