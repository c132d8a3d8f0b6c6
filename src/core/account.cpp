#include "core/account.hpp"

namespace kurz::core {

std::string_view ToString(UserStatus s) {
  switch (s) {
    case UserStatus::kActive:
      return "active";
    case UserStatus::kSuspended:
      return "suspended";
  }
  return "suspended";  // unreachable; fail closed
}

std::string_view PermissionName(Permission p) {
  switch (p) {
    case kPermCreate:
      return "create";
    case kPermRead:
      return "read";
    case kPermUpdate:
      return "update";
    case kPermDelete:
      return "delete";
    case kPermAdmin:
      return "admin";
  }
  return "?";
}

Result<Permission> ParsePermission(std::string_view name) {
  for (Permission p : kEveryPermission) {
    if (PermissionName(p) == name) return p;
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown permission '" + std::string(name) +
                                               "' (known: create, read, update, delete, admin)");
}

}  // namespace kurz::core
