#include "service/account_service.hpp"

#include <algorithm>

#include "service/crypto.hpp"

namespace kurz::service {

namespace {
constexpr std::size_t kMaxKeyNameLength = 100;
constexpr std::size_t kMaxEmailLength = 255;
}  // namespace

core::Result<void> ValidateEmail(std::string_view email) {
  const auto at = email.find('@');
  const bool shape_ok = email.size() <= kMaxEmailLength && at != std::string_view::npos && at > 0 &&
                        email.find('@', at + 1) == std::string_view::npos &&
                        email.find('.', at + 2) != std::string_view::npos && email.back() != '.';
  const bool chars_ok = std::ranges::all_of(email, [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && c != 0x7F && c != ',' && c != ';' && c != '<' &&
           c != '>' && c != '"';
  });
  if (!shape_ok || !chars_ok) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "email must look like name@example.com (at most 255 characters)");
  }
  return {};
}

core::Result<void> ValidateTier(std::string_view tier) {
  if (tier == "free" || tier == "pro" || tier == "enterprise") return {};
  return core::Fail(core::ErrorCode::kInvalidArgument, "tier must be free, pro or enterprise");
}

AccountService::AccountService(ports::AccountStore& store, RedirectCache& cache,
                               const ports::Clock& clock, SharedTier shared)
    : store_(store), cache_(cache), clock_(clock), shared_(shared) {}

core::Result<std::vector<std::int64_t>> AccountService::SuspendedUserIds() {
  auto users = store_.ListUsers();
  if (!users) return std::unexpected(users.error());
  std::vector<std::int64_t> ids;
  for (const core::User& user : *users) {
    if (user.status == core::UserStatus::kSuspended) ids.push_back(user.id);
  }
  return ids;
}

std::string AccountService::NewKeySecret() { return "kz_" + RandomBase62(40); }

core::ApiKey AccountService::MakeKey(std::string_view secret, std::string name,
                                     core::Permissions permissions) const {
  core::ApiKey key;
  key.name = std::move(name);
  // Enough to tell keys apart in a list, never enough to help guess one: at most 6 characters,
  // and at most a quarter of a short chosen key.
  key.prefix = std::string(secret.substr(0, std::min<std::size_t>(6, secret.size() / 4)));
  key.key_hash = Sha256Hex(secret);
  key.permissions = permissions;
  key.created_at = clock_.Now();
  return key;
}

core::Result<Principal> AccountService::Authenticate(std::string_view key) {
  if (key.empty()) return core::Fail(core::ErrorCode::kUnauthorized, "an API key is required");
  auto found = store_.FindKeyByHash(Sha256Hex(key));
  if (!found) {
    if (found.error().code == core::ErrorCode::kNotFound) {
      return core::Fail(core::ErrorCode::kUnauthorized, "unknown API key");
    }
    return std::unexpected(found.error());
  }
  const core::Micros now = clock_.Now();
  if (found->key.revoked_at) return core::Fail(core::ErrorCode::kUnauthorized, "API key revoked");
  if (const std::optional<core::Micros>& expires = found->key.expires_at;
      expires && *expires <= now) {
    return core::Fail(core::ErrorCode::kUnauthorized, "API key expired");
  }
  if (found->user.status != core::UserStatus::kActive) {
    return core::Fail(core::ErrorCode::kUnauthorized, "the key's user is suspended");
  }
  return Principal{found->user.id, found->key.id, found->key.permissions};
}

core::Result<CreatedKey> AccountService::CreateKey(const Principal& who, std::string name,
                                                   core::Permissions permissions) {
  if (name.size() > kMaxKeyNameLength) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "name is longer than 100 characters");
  }
  if ((permissions & ~who.permissions) != 0) {
    return core::Fail(core::ErrorCode::kForbidden,
                      "a key can only grant permissions its creator holds");
  }
  CreatedKey created;
  created.secret = NewKeySecret();
  core::ApiKey key = MakeKey(created.secret, std::move(name), permissions);
  key.user_id = who.user_id;
  auto stored = store_.CreateKey(key);
  if (!stored) return std::unexpected(stored.error());
  created.key = std::move(*stored);
  return created;
}

core::Result<std::vector<core::ApiKey>> AccountService::ListKeys(const Principal& who) {
  auto keys = store_.ListKeys(who.user_id);
  if (!keys) return keys;
  std::erase_if(*keys, [&](const core::ApiKey& k) { return !Covers(who, k); });
  return keys;
}

core::Result<void> AccountService::RevokeKey(const Principal& who, std::int64_t key_id) {
  // A key with more permissions than the caller's is not there for it (404, like another
  // user's key): a read-only key cannot lock the admin out.
  auto keys = store_.ListKeys(who.user_id);
  if (!keys) return std::unexpected(keys.error());
  const auto key =
      std::ranges::find_if(*keys, [&](const core::ApiKey& k) { return k.id == key_id; });
  if (key == keys->end() || !Covers(who, *key)) {
    return core::Fail(core::ErrorCode::kNotFound, "no active API key with this id");
  }
  auto revoked = store_.RevokeKey(key_id, who.user_id, clock_.Now());
  if (!revoked && revoked.error().code == core::ErrorCode::kNotFound) {
    return core::Fail(core::ErrorCode::kNotFound, "no active API key with this id");
  }
  return revoked;
}

core::Result<CreatedUser> AccountService::CreateUser(std::string email, std::string tier) {
  if (auto ok = ValidateEmail(email); !ok) return std::unexpected(ok.error());
  if (auto ok = ValidateTier(tier); !ok) return std::unexpected(ok.error());
  core::User user;
  user.email = std::move(email);
  user.tier = std::move(tier);
  user.created_at = clock_.Now();
  CreatedUser created;
  created.first_key.secret = NewKeySecret();
  core::ApiKey key = MakeKey(created.first_key.secret, "default", core::kDefaultUserPermissions);
  auto stored = store_.CreateUser(user, key);
  if (!stored) {
    if (stored.error().code == core::ErrorCode::kConflict) {
      return core::Fail(core::ErrorCode::kConflict, "a user with this email already exists");
    }
    return std::unexpected(stored.error());
  }
  created.user = std::move(stored->first);
  created.first_key.key = std::move(stored->second);
  return created;
}

core::Result<std::vector<core::User>> AccountService::ListUsers() { return store_.ListUsers(); }

core::Result<core::User> AccountService::FindUser(std::int64_t user_id) {
  auto user = store_.FindUser(user_id);
  if (!user && user.error().code == core::ErrorCode::kNotFound) {
    return core::Fail(core::ErrorCode::kNotFound, "no user with this id");
  }
  return user;
}

core::Result<core::User> AccountService::SetUserStatus(const Principal& who, std::int64_t user_id,
                                                       core::UserStatus status) {
  if (user_id == who.user_id && status != core::UserStatus::kActive) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "you cannot suspend yourself");
  }
  auto user = store_.SetUserStatus(user_id, status);
  if (!user) {
    if (user.error().code == core::ErrorCode::kNotFound) {
      return core::Fail(core::ErrorCode::kNotFound, "no user with this id");
    }
    return user;
  }
  // Cached redirects do not know owners; forget them all (a rare, admin-only operation), here and
  // on every other instance, which also take the new status into their suspended sets.
  if (shared_.suspended != nullptr) {
    shared_.suspended->Set(user_id, status == core::UserStatus::kSuspended);
  }
  cache_.Clear();
  if (shared_.bus != nullptr) (void)shared_.bus->Publish(kFlushAll);
  return user;
}

core::Result<std::optional<std::string>> AccountService::Bootstrap(
    const std::optional<std::string>& key) {
  auto count = store_.CountUsers();
  if (!count) return std::unexpected(count.error());
  if (*count > 0) return std::optional<std::string>{};
  core::User admin;
  admin.email = "admin@localhost";
  admin.tier = "enterprise";
  admin.created_at = clock_.Now();
  std::string secret = key.value_or(NewKeySecret());
  auto stored = store_.CreateUser(admin, MakeKey(secret, "bootstrap", core::kAllPermissions));
  if (!stored) return std::unexpected(stored.error());
  return std::optional<std::string>{std::move(secret)};
}

}  // namespace kurz::service
