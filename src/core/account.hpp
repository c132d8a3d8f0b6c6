#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/time.hpp"

namespace kurz::core {

enum class UserStatus { kActive, kSuspended };
std::string_view ToString(UserStatus s);

struct User {
  std::int64_t id = 0;
  std::string email;
  std::string tier = "free";  // free | pro | enterprise
  UserStatus status = UserStatus::kActive;
  Micros created_at = 0;
};

// Permission bit set.
enum Permission : std::uint8_t {
  kPermCreate = 1,
  kPermRead = 2,
  kPermDelete = 4,
  kPermAdmin = 8,
  kPermUpdate = 16,  // PATCH a link (added after the others: bits are not stored, names are)
};
using Permissions = std::uint8_t;
constexpr Permission kEveryPermission[] = {kPermCreate, kPermRead, kPermUpdate, kPermDelete,
                                           kPermAdmin};

// "create", "read", "update", "delete", "admin".
std::string_view PermissionName(Permission p);
// invalid_argument naming the known ones for anything else.
Result<Permission> ParsePermission(std::string_view name);
// A new user's first key. update came with PATCH; every key that could create got it then.
constexpr Permissions kDefaultUserPermissions = kPermCreate | kPermRead | kPermUpdate | kPermDelete;
constexpr Permissions kAllPermissions = kDefaultUserPermissions | kPermAdmin;

struct ApiKey {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name;
  std::string prefix;    // the key's first characters (at most 6, at most a quarter of it)
  std::string key_hash;  // lowercase hex SHA-256 of the whole key
  Permissions permissions = kDefaultUserPermissions;
  Micros created_at = 0;
  std::optional<Micros> expires_at;
  std::optional<Micros> revoked_at;
  std::optional<Micros> last_used_at;
};

// What authentication finds for a key hash: the key and its owner.
struct KeyOwner {
  ApiKey key;
  User user;
};

}  // namespace kurz::core
