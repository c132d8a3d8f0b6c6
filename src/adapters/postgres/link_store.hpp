#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "adapters/postgres/database.hpp"
#include "ports/link_store.hpp"

namespace kurz::adapters::postgres {

using core::Result;

// Links in the `urls` table and the code counter in `counters`. Deduplication is the unique
// idx_urls_dedup (owner, MD5(url), redirect type) over active plain links, so it holds across
// instances. The database must outlive the store.
class PostgresLinkStore final : public ports::LinkStore {
 public:
  explicit PostgresLinkStore(PostgresDatabase& db) : db_(db) {}

  // Besides the port's errors: invalid_argument when the owner or api key does not exist (foreign
  // keys), or the code or url breaks the schema's length checks.
  Result<void> Insert(const core::Link& link) override;
  Result<core::Link> Find(std::string_view code) override;
  Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner_id, std::string_view url,
                                                  core::RedirectType type) override;
  Result<std::vector<core::Link>> SearchByOwner(std::int64_t owner_id,
                                                const core::LinkQuery& query) override;
  Result<std::vector<core::TagCount>> ListTags(std::int64_t owner_id) override;
  // One transaction. Besides the port's errors: conflict when the new url and redirect type make
  // the link a duplicate of another plain link of the owner (the dedup index).
  Result<void> Update(const core::Link& link) override;
  // One UPDATE ... WHERE clicks_used < max_clicks: row locks keep concurrent callers in budget.
  Result<bool> UseClick(std::string_view code) override;
  // One transaction, each link in its own SAVEPOINT.
  Result<std::vector<Result<void>>> InsertMany(std::span<const core::Link> links) override;
  Result<void> SoftDelete(std::string_view code, std::int64_t owner_id, core::Micros at) override;
  // One UPDATE ... RETURNING of the counter row, committed before it returns.
  Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) override;

 private:
  PostgresDatabase& db_;
};

}  // namespace kurz::adapters::postgres
