#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/clickhouse/clickhouse_url.hpp"
#include "adapters/clickhouse/client.hpp"
#include "ports/raw_click_store.hpp"

namespace kurz::adapters::clickhouse {

using core::Result;

// The raw clicks in ClickHouse (18.16 and current versions), table <database>.clicks:
//   ReplacingMergeTree() PARTITION BY toYYYYMM(day) ORDER BY (code, ts, event_id)
// with the time as ts (DateTime, whole seconds) + micros and day = its UTC date. A re-inserted
// row is a second copy until a background merge collapses the copies; Count() counts distinct
// event ids, so copies never count twice, and Find() (no FINAL) sees every copy not yet merged.
// Times must lie in [1970-01-01, 2100-01-01) (DateTime and 18.16's Date); invalid_argument
// otherwise. Thread-safe.
class ClickHouseRawClickStore final : public ports::RawClickStore {
 public:
  // Connects lazily: nothing is contacted or created until the first call.
  static Result<std::unique_ptr<ClickHouseRawClickStore>> Open(const ClickHouseUrl& url,
                                                               ClientOptions options = {});

  // CREATE DATABASE / TABLE IF NOT EXISTS; safe to run from several processes at once.
  Result<void> EnsureSchema() override;
  // One INSERT ... FORMAT TabSeparated request. Atomic up to max_insert_block_size rows (a
  // million) within one month; a larger or multi-month batch is written as several parts, and a
  // failure can leave some of them, which a retry of the batch makes whole.
  Result<void> Insert(const std::vector<ports::RawClick>& rows) override;
  Result<std::vector<ports::StoredEvent>> Find(const std::vector<std::string>& codes,
                                               const std::vector<std::string>& event_ids) override;
  Result<std::int64_t> Count(const std::string& code, core::Micros from, core::Micros to) override;

  // The client the store talks through (for tests and diagnostics).
  ClickHouseClient& client() { return client_; }
  // "<database>.clicks".
  const std::string& table() const { return table_; }

  explicit ClickHouseRawClickStore(const ClickHouseUrl& url, ClientOptions options);

 private:
  ClickHouseClient client_;
  const std::string table_;
};

// The query parts, exposed for tests.
namespace detail {
// Appends one row of the table (column order of kInsertColumns) as a TabSeparated line.
void AppendRow(std::string& out, const ports::RawClick& row);
extern const std::string_view kInsertColumns;
}  // namespace detail

}  // namespace kurz::adapters::clickhouse
