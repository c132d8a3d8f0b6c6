#include "adapters/memory/link_store.hpp"

#include <limits>

#include "adapters/memory/guard.hpp"
#include "core/short_code.hpp"

namespace kurz::adapters::memory {
namespace {

using core::ErrorCode;
using core::Fail;

// The same limits as the SQL schema's CHECK constraints.
constexpr std::size_t kMaxUrlBytes = 2048;

}  // namespace

core::Link MemoryLinkStore::WithOwnerStatus(core::Link link) const {
  if (accounts_ != nullptr) {
    std::optional<core::UserStatus> status = accounts_->StatusOf(link.owner_id);
    link.owner_suspended = status && *status != core::UserStatus::kActive;
  } else {
    link.owner_suspended = false;
  }
  return link;
}

Result<void> MemoryLinkStore::Insert(const core::Link& link) {
  return Guard([&]() -> Result<void> {
    if (link.code.empty() || link.code.size() > core::kMaxCodeLength) {
      return Fail(ErrorCode::kInvalidArgument, "short code must be 1..32 characters");
    }
    if (link.url.size() > kMaxUrlBytes) {
      return Fail(ErrorCode::kInvalidArgument, "url longer than 2048 bytes");
    }
    if (accounts_ != nullptr) {
      if (link.owner_id != 0 && !accounts_->StatusOf(link.owner_id)) {
        return Fail(ErrorCode::kInvalidArgument, "owner does not exist");
      }
      if (link.api_key_id && !accounts_->KeyExists(*link.api_key_id)) {
        return Fail(ErrorCode::kInvalidArgument, "api key does not exist");
      }
    }
    std::lock_guard lock(mu_);
    if (!link.is_custom && !link.expires_at && !link.deleted_at) {
      if (auto owner = live_by_owner_.find(link.owner_id); owner != live_by_owner_.end()) {
        for (const auto& [created_at, code] : owner->second) {
          const core::Link& other = links_.at(code);
          if (!other.is_custom && !other.expires_at && other.url == link.url &&
              other.redirect_type == link.redirect_type) {
            return Fail(ErrorCode::kConflict, "an identical link of this owner exists");
          }
        }
      }
    }
    auto [it, inserted] = links_.try_emplace(link.code, link);
    if (!inserted) return Fail(ErrorCode::kConflict, "short code already taken");
    it->second.owner_suspended = false;
    if (!link.deleted_at) live_by_owner_[link.owner_id].emplace(link.created_at, link.code);
    return {};
  });
}

Result<core::Link> MemoryLinkStore::Find(std::string_view code) {
  return Guard([&]() -> Result<core::Link> {
    core::Link link;
    {
      std::lock_guard lock(mu_);
      auto it = links_.find(code);
      if (it == links_.end()) return Fail(ErrorCode::kNotFound, "no such link");
      link = it->second;
    }
    return WithOwnerStatus(std::move(link));
  });
}

Result<std::optional<core::Link>> MemoryLinkStore::FindDuplicate(std::int64_t owner_id,
                                                                 std::string_view url,
                                                                 core::RedirectType type) {
  return Guard([&]() -> Result<std::optional<core::Link>> {
    std::optional<core::Link> found;
    {
      std::lock_guard lock(mu_);
      auto owner = live_by_owner_.find(owner_id);
      if (owner == live_by_owner_.end()) return std::optional<core::Link>();
      for (const OwnerKey& key : owner->second) {  // newest first
        const core::Link& link = links_.find(key.second)->second;
        if (!link.is_custom && !link.expires_at && link.redirect_type == type && link.url == url) {
          found = link;
          break;
        }
      }
    }
    if (!found) return found;
    return std::optional<core::Link>(WithOwnerStatus(std::move(*found)));
  });
}

Result<std::vector<core::Link>> MemoryLinkStore::ListByOwner(
    std::int64_t owner_id, const std::optional<core::ListCursor>& after, int limit) {
  return Guard([&]() -> Result<std::vector<core::Link>> {
    std::vector<core::Link> links;
    if (limit <= 0) return links;
    {
      std::lock_guard lock(mu_);
      auto owner = live_by_owner_.find(owner_id);
      if (owner == live_by_owner_.end()) return links;
      const OwnerIndex& index = owner->second;
      auto it = after ? index.upper_bound(OwnerKey(after->created_at, after->code)) : index.begin();
      for (; it != index.end() && static_cast<int>(links.size()) < limit; ++it) {
        links.push_back(links_.find(it->second)->second);
      }
    }
    for (core::Link& link : links) link = WithOwnerStatus(std::move(link));
    return links;
  });
}

Result<void> MemoryLinkStore::SoftDelete(std::string_view code, std::int64_t owner_id,
                                         core::Micros at) {
  return Guard([&]() -> Result<void> {
    std::lock_guard lock(mu_);
    auto it = links_.find(code);
    if (it == links_.end() || it->second.owner_id != owner_id || it->second.deleted_at) {
      return Fail(ErrorCode::kNotFound, "no such link");
    }
    it->second.deleted_at = at;
    live_by_owner_[owner_id].erase(OwnerKey(it->second.created_at, it->second.code));
    return {};
  });
}

Result<std::uint64_t> MemoryLinkStore::LeaseCodeBlock(std::uint64_t count) {
  // The SQL counter is a signed 64-bit integer; keep the same range here.
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (count == 0 || count > kMax) return Fail(ErrorCode::kInvalidArgument, "bad block size");
  std::lock_guard lock(mu_);
  if (next_code_value_ > kMax - count) return Fail(ErrorCode::kInternal, "code counter exhausted");
  std::uint64_t first = next_code_value_;
  next_code_value_ += count;
  return first;
}

void MemoryLinkStore::AddClicks(std::string_view code, std::int64_t clicks) {
  std::lock_guard lock(mu_);
  auto it = links_.find(code);
  if (it != links_.end()) it->second.click_count += clicks;
}

}  // namespace kurz::adapters::memory
