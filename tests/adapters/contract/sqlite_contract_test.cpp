// The port contracts, run against the SQLite adapters (a fresh temp-file database per test).
#include "adapters/contract/account_store_contract.hpp"
#include "adapters/contract/backends.hpp"
#include "adapters/contract/click_store_contract.hpp"
#include "adapters/contract/link_options_contract.hpp"
#include "adapters/contract/link_store_contract.hpp"
#include "adapters/contract/settings_store_contract.hpp"

namespace kurz::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, LinkStoreContract, SqliteBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, LinkOptionsContract, SqliteBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AccountStoreContract, SqliteBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SettingsStoreContract, SqliteBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ClickStoreContract, SqliteBackend);

}  // namespace kurz::testing
