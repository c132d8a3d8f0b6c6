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

}  // namespace kurz::core
