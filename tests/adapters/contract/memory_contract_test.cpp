// The port contracts, run against the in-memory adapters.
#include "adapters/contract/account_store_contract.hpp"
#include "adapters/contract/backends.hpp"
#include "adapters/contract/click_store_contract.hpp"
#include "adapters/contract/link_options_contract.hpp"
#include "adapters/contract/link_store_contract.hpp"
#include "adapters/contract/settings_store_contract.hpp"

namespace kurz::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, LinkStoreContract, MemoryBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, LinkOptionsContract, MemoryBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, AccountStoreContract, MemoryBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SettingsStoreContract, MemoryBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, ClickStoreContract, MemoryBackend);

}  // namespace kurz::testing
