// The RawClickStore contract, run against the in-memory adapter.
#include "adapters/contract/raw_click_store_contract.hpp"
#include "adapters/memory/raw_click_store.hpp"

namespace kurz::testing {

struct MemoryRawClicks {
  adapters::memory::MemoryRawClickStore store;

  ports::RawClickStore& Store() { return store; }
  std::vector<ports::RawClick> StoredRows(const std::string& code) { return store.Rows(code); }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, RawClickStoreContract, MemoryRawClicks);

}  // namespace kurz::testing
