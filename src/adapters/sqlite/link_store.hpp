#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "adapters/sqlite/database.hpp"
#include "ports/link_store.hpp"

namespace kurz::adapters::sqlite {

using core::Result;

// Links in the `urls` table (their tags in `url_tags`) and the code counter in `counters`. Writes
// are group-committed by the database's writer thread; reads use its reader pool. The database must
// outlive the store.
class SqliteLinkStore final : public ports::LinkStore {
 public:
  explicit SqliteLinkStore(SqliteDatabase& db) : db_(db) {}

  // Besides the port's errors: invalid_argument when the owner or api key does not exist (foreign
  // keys), or the code or url breaks the schema's length checks.
  Result<void> Insert(const core::Link& link) override;
  Result<core::Link> Find(std::string_view code) override;
  Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner_id, std::string_view url,
                                                  core::RedirectType type) override;
  Result<std::vector<core::Link>> SearchByOwner(std::int64_t owner_id,
                                                const core::LinkQuery& query) override;
  Result<std::vector<core::TagCount>> ListTags(std::int64_t owner_id) override;
  // Besides the port's errors: conflict when the new url and redirect type make the link a
  // duplicate of another plain link of the owner (the dedup index), invalid_argument as Insert.
  Result<void> Update(const core::Link& link) override;
  Result<bool> UseClick(std::string_view code) override;
  // One write of the group commit; each link in its own savepoint.
  Result<std::vector<Result<void>>> InsertMany(std::span<const core::Link> links) override;
  Result<void> SoftDelete(std::string_view code, std::int64_t owner_id, core::Micros at) override;
  Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) override;

 private:
  SqliteDatabase& db_;
};

}  // namespace kurz::adapters::sqlite
