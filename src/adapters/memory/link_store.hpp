#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/memory/account_store.hpp"
#include "ports/link_store.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Links and the code counter in process memory. Thread-safe (one mutex).
class MemoryLinkStore final : public ports::LinkStore {
 public:
  // Without an account store, owners are not checked and never suspended.
  MemoryLinkStore() = default;
  // With one, it plays the SQL schema's join and foreign keys: owner_suspended comes from the
  // owner's status, and Insert refuses unknown owners and keys (invalid_argument) like SQLite.
  explicit MemoryLinkStore(const MemoryAccountStore& accounts) : accounts_(&accounts) {}

  Result<void> Insert(const core::Link& link) override;
  Result<core::Link> Find(std::string_view code) override;
  Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner_id, std::string_view url,
                                                  core::RedirectType type) override;
  Result<std::vector<core::Link>> SearchByOwner(std::int64_t owner_id,
                                                const core::LinkQuery& query) override;
  Result<std::vector<core::TagCount>> ListTags(std::int64_t owner_id) override;
  Result<void> Update(const core::Link& link) override;
  Result<bool> UseClick(std::string_view code) override;
  Result<std::vector<Result<void>>> InsertMany(std::span<const core::Link> links) override;
  Result<void> SoftDelete(std::string_view code, std::int64_t owner_id, core::Micros at) override;
  Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) override;

  // For MemoryClickStore: adds `clicks` to the link's click_count (no-op for unknown codes).
  void AddClicks(std::string_view code, std::int64_t clicks);

 private:
  // Newest first: (created_at desc, code desc).
  using OwnerKey = std::pair<core::Micros, std::string>;
  using OwnerIndex = std::set<OwnerKey, std::greater<>>;

  core::Link WithOwnerStatus(core::Link link) const;
  Result<void> CheckRow(const core::Link& link) const;  // what the SQL schema refuses
  Result<void> InsertLocked(const core::Link& link);    // mu_ held

  const MemoryAccountStore* accounts_ = nullptr;
  std::mutex mu_;
  std::map<std::string, core::Link, std::less<>> links_;
  std::map<std::int64_t, OwnerIndex> live_by_owner_;  // links not deleted
  std::uint64_t next_code_value_ = 0;
};

}  // namespace kurz::adapters::memory
