#include "adapters/memory/account_store.hpp"

#include <algorithm>

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {
namespace {

using core::ErrorCode;
using core::Fail;

// Emails compare case-insensitively in ASCII only, like SQLite's NOCASE collation.
std::string FoldEmail(std::string_view email) {
  std::string folded(email);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

bool ValidTier(std::string_view tier) {
  return tier == "free" || tier == "pro" || tier == "enterprise";
}

}  // namespace

core::ApiKey MemoryAccountStore::AddKeyLocked(core::ApiKey key) {
  key.id = static_cast<std::int64_t>(keys_.size()) + 1;
  keys_.push_back(key);
  key_by_hash_.emplace(key.key_hash, key.id);
  return key;
}

Result<std::pair<core::User, core::ApiKey>> MemoryAccountStore::CreateUser(
    const core::User& user, const core::ApiKey& first_key) {
  return Guard([&]() -> Result<std::pair<core::User, core::ApiKey>> {
    if (!ValidTier(user.tier)) return Fail(ErrorCode::kInvalidArgument, "unknown tier");
    std::string folded = FoldEmail(user.email);
    std::lock_guard lock(mu_);
    if (email_.contains(folded)) return Fail(ErrorCode::kConflict, "email already registered");
    if (key_by_hash_.contains(first_key.key_hash)) {
      return Fail(ErrorCode::kConflict, "key hash already stored");
    }
    core::User stored = user;
    stored.id = static_cast<std::int64_t>(users_.size()) + 1;
    users_.push_back(stored);
    email_.emplace(std::move(folded), stored.id);
    core::ApiKey key = first_key;
    key.user_id = stored.id;
    return std::pair{stored, AddKeyLocked(std::move(key))};
  });
}

Result<core::User> MemoryAccountStore::FindUser(std::int64_t id) {
  return Guard([&]() -> Result<core::User> {
    std::lock_guard lock(mu_);
    if (id < 1 || id > static_cast<std::int64_t>(users_.size())) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    return users_[id - 1];
  });
}

Result<std::vector<core::User>> MemoryAccountStore::ListUsers() {
  return Guard([&]() -> Result<std::vector<core::User>> {
    std::lock_guard lock(mu_);
    std::vector<core::User> users = users_;
    std::ranges::stable_sort(users, [](const core::User& a, const core::User& b) {
      return a.created_at < b.created_at;
    });
    return users;
  });
}

Result<core::User> MemoryAccountStore::SetUserStatus(std::int64_t id, core::UserStatus status) {
  return Guard([&]() -> Result<core::User> {
    std::lock_guard lock(mu_);
    if (id < 1 || id > static_cast<std::int64_t>(users_.size())) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    users_[id - 1].status = status;
    return users_[id - 1];
  });
}

Result<std::int64_t> MemoryAccountStore::CountUsers() {
  std::lock_guard lock(mu_);
  return static_cast<std::int64_t>(users_.size());
}

Result<core::ApiKey> MemoryAccountStore::CreateKey(const core::ApiKey& key) {
  return Guard([&]() -> Result<core::ApiKey> {
    std::lock_guard lock(mu_);
    if (key.user_id < 1 || key.user_id > static_cast<std::int64_t>(users_.size())) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    if (key_by_hash_.contains(key.key_hash)) {
      return Fail(ErrorCode::kConflict, "key hash already stored");
    }
    return AddKeyLocked(key);
  });
}

Result<std::vector<core::ApiKey>> MemoryAccountStore::ListKeys(std::int64_t user_id) {
  return Guard([&]() -> Result<std::vector<core::ApiKey>> {
    std::lock_guard lock(mu_);
    std::vector<core::ApiKey> keys;
    for (const core::ApiKey& key : keys_) {
      if (key.user_id == user_id) keys.push_back(key);
    }
    std::ranges::stable_sort(keys, [](const core::ApiKey& a, const core::ApiKey& b) {
      return a.created_at < b.created_at;
    });
    return keys;
  });
}

Result<void> MemoryAccountStore::RevokeKey(std::int64_t key_id, std::int64_t user_id,
                                           core::Micros at) {
  std::lock_guard lock(mu_);
  if (key_id < 1 || key_id > static_cast<std::int64_t>(keys_.size())) {
    return Fail(ErrorCode::kNotFound, "no such key");
  }
  core::ApiKey& key = keys_[key_id - 1];
  if (key.user_id != user_id || key.revoked_at) return Fail(ErrorCode::kNotFound, "no such key");
  key.revoked_at = at;
  return {};
}

Result<core::KeyOwner> MemoryAccountStore::FindKeyByHash(std::string_view key_hash) {
  return Guard([&]() -> Result<core::KeyOwner> {
    std::lock_guard lock(mu_);
    auto it = key_by_hash_.find(key_hash);
    if (it == key_by_hash_.end()) return Fail(ErrorCode::kNotFound, "no such key");
    const core::ApiKey& key = keys_[it->second - 1];
    return core::KeyOwner{key, users_[key.user_id - 1]};
  });
}

std::optional<core::UserStatus> MemoryAccountStore::StatusOf(std::int64_t user_id) const {
  std::lock_guard lock(mu_);
  if (user_id < 1 || user_id > static_cast<std::int64_t>(users_.size())) return std::nullopt;
  return users_[user_id - 1].status;
}

bool MemoryAccountStore::KeyExists(std::int64_t key_id) const {
  std::lock_guard lock(mu_);
  return key_id >= 1 && key_id <= static_cast<std::int64_t>(keys_.size());
}

}  // namespace kurz::adapters::memory
