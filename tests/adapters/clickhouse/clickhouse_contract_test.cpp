// The RawClickStore contract, run against ClickHouse (a fresh database per test in the server at
// KURZ_TEST_CLICKHOUSE_URL: see scripts/services/clickhouse).
#include "adapters/clickhouse/clickhouse_test_support.hpp"
#include "adapters/contract/raw_click_store_contract.hpp"

namespace kurz::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(ClickHouse, RawClickStoreContract, ClickHouseRawClicks);

}  // namespace kurz::testing
