// The SharedCache, InvalidationBus and RateLimitStore contracts, run against the in-process
// adapters (embedded mode). An "other instance" is the same object: there is only one process.
#include "adapters/contract/invalidation_bus_contract.hpp"
#include "adapters/contract/rate_limit_store_contract.hpp"
#include "adapters/contract/shared_cache_contract.hpp"
#include "adapters/memory/invalidation_bus.hpp"
#include "adapters/memory/rate_limit_store.hpp"
#include "adapters/memory/shared_cache.hpp"

namespace kurz::testing {

struct MemoryClusterPorts {
  adapters::memory::MemorySharedCache cache;
  adapters::memory::MemoryInvalidationBus bus;
  adapters::memory::MemoryRateLimitStore limits;

  ports::SharedCache& Cache() { return cache; }
  ports::SharedCache& OtherCache() { return cache; }
  ports::InvalidationBus& Bus() { return bus; }
  ports::InvalidationBus& OtherBus() { return bus; }
  ports::RateLimitStore& Limits() { return limits; }
  ports::RateLimitStore& OtherLimits() { return limits; }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SharedCacheContract, MemoryClusterPorts);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, InvalidationBusContract, MemoryClusterPorts);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, RateLimitStoreContract, MemoryClusterPorts);

}  // namespace kurz::testing
