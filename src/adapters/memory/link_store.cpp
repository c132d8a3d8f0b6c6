#include "adapters/memory/link_store.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <ranges>

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

Result<void> MemoryLinkStore::CheckRow(const core::Link& link) const {
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
  return {};
}

Result<void> MemoryLinkStore::InsertLocked(const core::Link& link) {
  if (!link.is_custom && !link.expires_at && !link.deleted_at && !link.IsPersonal()) {
    if (auto owner = live_by_owner_.find(link.owner_id); owner != live_by_owner_.end()) {
      for (const auto& [created_at, code] : owner->second) {
        const core::Link& other = links_.at(code);
        if (!other.is_custom && !other.expires_at && !other.IsPersonal() && other.url == link.url &&
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
}

Result<void> MemoryLinkStore::Insert(const core::Link& link) {
  return Guard([&]() -> Result<void> {
    if (auto bad = CheckRow(link); !bad) return bad;
    std::lock_guard lock(mu_);
    return InsertLocked(link);
  });
}

Result<std::vector<Result<void>>> MemoryLinkStore::InsertMany(std::span<const core::Link> links) {
  return Guard([&]() -> Result<std::vector<Result<void>>> {
    std::vector<Result<void>> results;
    results.reserve(links.size());
    std::lock_guard lock(mu_);
    for (const core::Link& link : links) {
      Result<void> checked = CheckRow(link);
      results.push_back(checked ? InsertLocked(link) : checked);
    }
    return results;
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
        if (!link.is_custom && !link.expires_at && !link.IsPersonal() &&
            link.redirect_type == type && link.url == url) {
          found = link;
          break;
        }
      }
    }
    if (!found) return found;
    return std::optional<core::Link>(WithOwnerStatus(std::move(*found)));
  });
}

namespace {

std::string Folded(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasEveryTag(const core::Link& link, const std::vector<std::string>& wanted) {
  return std::ranges::all_of(wanted, [&](const std::string& tag) {
    const std::string key = Folded(tag);
    return std::ranges::any_of(link.tags, [&](const std::string& t) { return Folded(t) == key; });
  });
}

bool ContainsText(const core::Link& link, const std::string& folded_text) {
  if (folded_text.empty()) return true;
  return Folded(link.code).find(folded_text) != std::string::npos ||
         Folded(link.url).find(folded_text) != std::string::npos ||
         Folded(link.title).find(folded_text) != std::string::npos;
}

// Whether a comes before b in the listing's order.
bool Before(core::LinkSort sort, const core::Link& a, const core::ListCursor& b) {
  const auto newer = [&] {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.code > b.code;
  };
  switch (sort) {
    case core::LinkSort::kNewest:
      return newer();
    case core::LinkSort::kOldest:
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.code < b.code;
    case core::LinkSort::kMostClicks:
      return a.click_count != b.click_count ? a.click_count > b.click_count : newer();
  }
  return false;
}

// Whether link comes strictly after the cursor in the listing's order.
bool After(core::LinkSort sort, const core::Link& link, const core::ListCursor& cursor) {
  core::Link at;
  at.created_at = cursor.created_at;
  at.code = cursor.code;
  at.click_count = cursor.click_count;
  return Before(sort, at, {link.created_at, link.code, link.click_count});
}

core::ListCursor CursorOf(const core::Link& link) {
  return {link.created_at, link.code, link.click_count};
}

}  // namespace

Result<std::vector<core::Link>> MemoryLinkStore::SearchByOwner(std::int64_t owner_id,
                                                               const core::LinkQuery& query) {
  return Guard([&]() -> Result<std::vector<core::Link>> {
    std::vector<core::Link> links;
    if (query.limit <= 0) return links;
    const std::string text = Folded(query.text);
    {
      std::lock_guard lock(mu_);
      auto owner = live_by_owner_.find(owner_id);
      if (owner == live_by_owner_.end()) return links;
      for (const OwnerKey& key : owner->second) {
        const core::Link& link = links_.find(key.second)->second;
        if (!HasEveryTag(link, query.tags) || !ContainsText(link, text)) continue;
        if (query.after && !After(query.sort, link, *query.after)) continue;
        links.push_back(link);
      }
    }
    std::ranges::sort(links, [&](const core::Link& a, const core::Link& b) {
      return Before(query.sort, a, CursorOf(b));
    });
    if (links.size() > static_cast<std::size_t>(query.limit)) {
      links.resize(static_cast<std::size_t>(query.limit));
    }
    for (core::Link& link : links) link = WithOwnerStatus(std::move(link));
    return links;
  });
}

Result<std::vector<core::TagCount>> MemoryLinkStore::ListTags(std::int64_t owner_id) {
  return Guard([&]() -> Result<std::vector<core::TagCount>> {
    std::map<std::string, core::TagCount> by_key;
    std::vector<std::pair<core::Micros, std::string>> first_use;  // (created_at, key)
    {
      std::lock_guard lock(mu_);
      auto owner = live_by_owner_.find(owner_id);
      if (owner != live_by_owner_.end()) {
        // Oldest first, so each tag keeps the spelling of its first use.
        for (const OwnerKey& key : std::ranges::reverse_view(owner->second)) {
          for (const std::string& tag : links_.find(key.second)->second.tags) {
            auto [entry, fresh] = by_key.try_emplace(Folded(tag), core::TagCount{tag, 0});
            ++entry->second.links;
          }
        }
      }
    }
    std::vector<core::TagCount> tags;
    tags.reserve(by_key.size());
    for (auto& [key, count] : by_key) tags.push_back(std::move(count));
    std::ranges::stable_sort(tags, [](const core::TagCount& a, const core::TagCount& b) {
      return a.links != b.links ? a.links > b.links : Folded(a.tag) < Folded(b.tag);
    });
    return tags;
  });
}

Result<void> MemoryLinkStore::Update(const core::Link& link) {
  return Guard([&]() -> Result<void> {
    if (link.url.size() > kMaxUrlBytes) {
      return Fail(ErrorCode::kInvalidArgument, "url longer than 2048 bytes");
    }
    std::lock_guard lock(mu_);
    auto it = links_.find(link.code);
    if (it == links_.end() || it->second.owner_id != link.owner_id || it->second.deleted_at) {
      return Fail(ErrorCode::kNotFound, "no such link");
    }
    core::Link& stored = it->second;
    stored.url = link.url;
    stored.redirect_type = link.redirect_type;
    stored.expires_at = link.expires_at;
    stored.metadata_json = link.metadata_json;
    stored.title = link.title;
    stored.tags = link.tags;
    stored.forward_query = link.forward_query;
    stored.password_hash = link.password_hash;
    stored.max_clicks = link.max_clicks;
    stored.expired_url = link.expired_url;
    stored.rules = link.rules;
    stored.variants = link.variants;
    stored.og = link.og;
    return {};
  });
}

Result<bool> MemoryLinkStore::UseClick(std::string_view code) {
  return Guard([&]() -> Result<bool> {
    std::lock_guard lock(mu_);
    auto it = links_.find(code);
    if (it == links_.end()) return Fail(ErrorCode::kNotFound, "no such link");
    core::Link& link = it->second;
    if (link.deleted_at || !link.max_clicks || link.clicks_used >= *link.max_clicks) return false;
    ++link.clicks_used;
    return true;
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
