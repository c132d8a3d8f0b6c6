#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/account.hpp"
#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// Users and their API keys. Blocking and thread-safe; call it off the event loops.
class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // Atomically creates a user and its first key (ids assigned by the store; key.user_id is
  // ignored). conflict when the email is taken (compared case-insensitively).
  virtual Result<std::pair<core::User, core::ApiKey>> CreateUser(const core::User& user,
                                                                 const core::ApiKey& first_key) = 0;

  // not_found when there is no such user.
  virtual Result<core::User> FindUser(std::int64_t id) = 0;

  // All users, oldest first.
  virtual Result<std::vector<core::User>> ListUsers() = 0;

  // Sets the status and returns the updated user; not_found when there is no such user.
  virtual Result<core::User> SetUserStatus(std::int64_t id, core::UserStatus status) = 0;

  // Number of users (0 on a fresh database: the service then bootstraps an admin).
  virtual Result<std::int64_t> CountUsers() = 0;

  // Stores a new key for key.user_id and returns it with its id. not_found if the user does not
  // exist; conflict if the hash is already stored.
  virtual Result<core::ApiKey> CreateKey(const core::ApiKey& key) = 0;

  // The user's keys, revoked ones included, oldest first.
  virtual Result<std::vector<core::ApiKey>> ListKeys(std::int64_t user_id) = 0;

  // Revokes the user's key. not_found when the user has no such key or it is already revoked.
  virtual Result<void> RevokeKey(std::int64_t key_id, std::int64_t user_id, core::Micros at) = 0;

  // The key with this SHA-256 hex hash and its owner, revoked or expired ones included (the
  // caller decides); not_found when no key has this hash.
  virtual Result<core::KeyOwner> FindKeyByHash(std::string_view key_hash) = 0;
};

}  // namespace kurz::ports
