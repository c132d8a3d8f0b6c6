#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapters/clickhouse/raw_click_store.hpp"
#include "ports/raw_click_store.hpp"

// Shared by the ClickHouse tests: the test server started by scripts/services/clickhouse, and a
// fresh database per test (test processes share the server and may run in parallel).
namespace kurz::testing {

// $KURZ_TEST_CLICKHOUSE_URL, parsed; throws (failing the test, not skipping it) with the
// commands that start the server when it is unset.
adapters::clickhouse::ClickHouseUrl ClickHouseTestUrl();

// The test URL with database "<its database>_<pid>_<n>", n counting up in this process.
adapters::clickhouse::ClickHouseUrl FreshDatabaseUrl();

// Runs one statement on the test server outside the store under test; throws on failure.
std::string RunClickHouse(const adapters::clickhouse::ClickHouseUrl& url, const std::string& sql);

// Every stored row of `code` in `table`, every column the port knows, read with plain SQL.
std::vector<ports::RawClick> ReadRawClicks(const adapters::clickhouse::ClickHouseUrl& url,
                                           const std::string& table, const std::string& code);

// A store on a fresh database with the schema created and background merges held (copies of a
// row stay apart, so every copy is observable); the database is dropped at the end.
class ClickHouseRawClicks {
 public:
  ClickHouseRawClicks();
  ~ClickHouseRawClicks();
  ClickHouseRawClicks(const ClickHouseRawClicks&) = delete;
  ClickHouseRawClicks& operator=(const ClickHouseRawClicks&) = delete;

  ports::RawClickStore& Store() { return *store_; }
  std::vector<ports::RawClick> StoredRows(const std::string& code);
  const adapters::clickhouse::ClickHouseUrl& url() const { return url_; }

 private:
  adapters::clickhouse::ClickHouseUrl url_;
  std::unique_ptr<adapters::clickhouse::ClickHouseRawClickStore> store_;
};

}  // namespace kurz::testing
