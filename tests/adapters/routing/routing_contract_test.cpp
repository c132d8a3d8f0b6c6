// The LinkStore and click contracts hold through the read-routing decorators: in-memory stores
// stand in for the primary, and the same stores for two replicas that are always up to date.
#include "adapters/contract/backends.hpp"
#include "adapters/contract/click_store_contract.hpp"
#include "adapters/contract/link_store_contract.hpp"
#include "adapters/routing/read_routing.hpp"

namespace kurz::testing {

struct RoutedMemoryBackend {
  MemoryBackend memory;
  adapters::routing::ReplicaSet set{2};
  adapters::routing::ReadRoutingLinkStore links{memory.links, {&memory.links, &memory.links}, set};
  adapters::routing::ReadRoutingStatsStore stats{
      memory.clicks, {&memory.clicks, &memory.clicks}, set};

  ports::AccountStore& Accounts() { return memory.accounts; }
  ports::LinkStore& Links() { return links; }
  ports::ClickLog& ClickLog() { return memory.clicks; }
  ports::StatsStore& Stats() { return stats; }
  ports::SettingsStore& Settings() { return memory.settings; }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Routed, LinkStoreContract, RoutedMemoryBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Routed, ClickStoreContract, RoutedMemoryBackend);

}  // namespace kurz::testing
