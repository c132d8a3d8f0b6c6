#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/account_store.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Users and keys in process memory, for tests and throwaway runs. Thread-safe (one mutex).
class MemoryAccountStore final : public ports::AccountStore {
 public:
  MemoryAccountStore() = default;

  Result<std::pair<core::User, core::ApiKey>> CreateUser(const core::User& user,
                                                         const core::ApiKey& first_key) override;
  Result<core::User> FindUser(std::int64_t id) override;
  Result<std::vector<core::User>> ListUsers() override;
  Result<core::User> SetUserStatus(std::int64_t id, core::UserStatus status) override;
  Result<std::int64_t> CountUsers() override;
  Result<core::ApiKey> CreateKey(const core::ApiKey& key) override;
  Result<std::vector<core::ApiKey>> ListKeys(std::int64_t user_id) override;
  Result<void> RevokeKey(std::int64_t key_id, std::int64_t user_id, core::Micros at) override;
  Result<core::KeyOwner> FindKeyByHash(std::string_view key_hash) override;

  // For MemoryLinkStore, which plays the SQL join and foreign keys: the user's status, nullopt
  // when there is no such user; whether a key with this id exists.
  std::optional<core::UserStatus> StatusOf(std::int64_t user_id) const;
  bool KeyExists(std::int64_t key_id) const;

 private:
  core::ApiKey AddKeyLocked(core::ApiKey key);

  mutable std::mutex mu_;
  std::vector<core::User> users_;                           // id = index + 1
  std::map<std::string, std::int64_t, std::less<>> email_;  // ASCII-lowercased email -> id
  std::vector<core::ApiKey> keys_;                          // id = index + 1
  std::map<std::string, std::int64_t, std::less<>> key_by_hash_;
};

}  // namespace kurz::adapters::memory
