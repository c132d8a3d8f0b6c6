#include "adapters/clickhouse/open.hpp"

#include <string>

#include "adapters/clickhouse/clickhouse_url.hpp"
#include "adapters/clickhouse/raw_click_store.hpp"

namespace kurz::adapters::clickhouse {

core::Result<std::unique_ptr<ports::RawClickStore>> Open(std::string_view url) {
  auto parsed = ParseClickHouseUrl(std::string(url));
  if (!parsed) return std::unexpected(parsed.error());
  auto store = ClickHouseRawClickStore::Open(*parsed);
  if (!store) return std::unexpected(store.error());
  return std::unique_ptr<ports::RawClickStore>(std::move(*store));
}

}  // namespace kurz::adapters::clickhouse
