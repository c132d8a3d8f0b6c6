// The RealtimeCounters contract, run against the in-memory adapter.
#include "adapters/contract/realtime_counters_contract.hpp"
#include "adapters/memory/realtime_counters.hpp"

namespace kurz::testing {
namespace {

// One store: both instances see the same counters.
struct MemoryRealtimeBackend {
  adapters::memory::MemoryRealtimeCounters counters;

  ports::RealtimeCounters& Counters() { return counters; }
  ports::RealtimeCounters& OtherCounters() { return counters; }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, RealtimeCountersContract, MemoryRealtimeBackend);

}  // namespace kurz::testing
