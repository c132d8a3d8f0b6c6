// The port contracts, run against the PostgreSQL adapters (a fresh schema per test in the server
// at KURZ_TEST_POSTGRES_URL: see scripts/services/postgres).
#include "adapters/contract/account_store_contract.hpp"
#include "adapters/contract/backends.hpp"
#include "adapters/contract/click_store_contract.hpp"
#include "adapters/contract/link_options_contract.hpp"
#include "adapters/contract/link_store_contract.hpp"
#include "adapters/contract/settings_store_contract.hpp"

namespace kurz::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, LinkStoreContract, PostgresBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, LinkOptionsContract, PostgresBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AccountStoreContract, PostgresBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SettingsStoreContract, PostgresBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ClickStoreContract, PostgresBackend);

}  // namespace kurz::testing
