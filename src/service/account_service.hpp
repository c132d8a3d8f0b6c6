#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/account.hpp"
#include "core/error.hpp"
#include "ports/account_store.hpp"
#include "ports/clock.hpp"
#include "service/link_service.hpp"
#include "service/redirect_cache.hpp"

namespace kurz::service {

// Whether `who` may see and revoke `key`: every permission of the key is one of the caller's.
inline bool Covers(const Principal& who, const core::ApiKey& key) {
  return (key.permissions & ~who.permissions) == 0;
}

struct CreatedKey {
  core::ApiKey key;
  std::string secret;  // the whole key: shown once, never stored
};

struct CreatedUser {
  core::User user;
  CreatedKey first_key;
};

// Users and API keys: authentication, key management and the admin's user management.
// Blocking (it calls the store): run it off the event loops.
class AccountService {
 public:
  // With a shared tier (cluster mode), a user's suspension or reactivation also updates the
  // suspended set and is published to every instance (kFlushAll).
  AccountService(ports::AccountStore& store, RedirectCache& cache, const ports::Clock& clock,
                 SharedTier shared = {});

  // The ids of the suspended users, from the store (for SuspendedOwners at start and after the
  // bus may have missed messages).
  core::Result<std::vector<std::int64_t>> SuspendedUserIds();

  // The principal of a presented key. unauthorized when the key is unknown, revoked or expired,
  // or its user is suspended.
  core::Result<Principal> Authenticate(std::string_view key);

  // A new key for the caller, with at most the caller's own permissions (forbidden otherwise).
  core::Result<CreatedKey> CreateKey(const Principal& who, std::string name,
                                     core::Permissions permissions);
  // The caller's keys whose permissions are a subset of the caller's own (API.md "Accounts and
  // keys"); the others are not listed.
  core::Result<std::vector<core::ApiKey>> ListKeys(const Principal& who);
  // not_found for keys of other users, keys already revoked and keys with a permission the
  // caller lacks.
  core::Result<void> RevokeKey(const Principal& who, std::int64_t key_id);

  // Admin operations (the caller's admin permission is checked by the router).
  core::Result<CreatedUser> CreateUser(std::string email, std::string tier);
  core::Result<std::vector<core::User>> ListUsers();
  // not_found when there is no such user.
  core::Result<core::User> FindUser(std::int64_t user_id);
  // Suspending stops the user's keys and links at once; activating restores both.
  core::Result<core::User> SetUserStatus(const Principal& who, std::int64_t user_id,
                                         core::UserStatus status);

  // On an empty store, creates the admin user (admin@localhost) with `key` or a random key and
  // returns the key; nullopt when users already exist.
  core::Result<std::optional<std::string>> Bootstrap(const std::optional<std::string>& key);

  // The key format: "kz_" and 40 base62 characters.
  static std::string NewKeySecret();

 private:
  core::ApiKey MakeKey(std::string_view secret, std::string name,
                       core::Permissions permissions) const;

  ports::AccountStore& store_;
  RedirectCache& cache_;
  const ports::Clock& clock_;
  SharedTier shared_;
};

// Validation of the inputs accounts take (exposed for tests).
core::Result<void> ValidateEmail(std::string_view email);
core::Result<void> ValidateTier(std::string_view tier);

}  // namespace kurz::service
