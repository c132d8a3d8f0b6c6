#include "adapters/common/sql_values.hpp"

namespace kurz::adapters {

core::RedirectType ToRedirectType(std::int64_t value) {
  switch (value) {
    case 302:
      return core::RedirectType::k302;
    case 307:
      return core::RedirectType::k307;
    case 308:
      return core::RedirectType::k308;
    default:
      return core::RedirectType::k301;
  }
}

std::string_view UserStatusText(core::UserStatus status) {
  return status == core::UserStatus::kActive ? "active" : "suspended";
}

core::UserStatus ParseUserStatus(std::string_view text) {
  return text == "active" ? core::UserStatus::kActive : core::UserStatus::kSuspended;
}

std::string PermissionsJson(core::Permissions p) {
  auto flag = [p](core::Permission bit) { return (p & bit) != 0 ? "true" : "false"; };
  return std::string("{\"create\":") + flag(core::kPermCreate) +
         ",\"read\":" + flag(core::kPermRead) + ",\"update\":" + flag(core::kPermUpdate) +
         ",\"delete\":" + flag(core::kPermDelete) + ",\"admin\":" + flag(core::kPermAdmin) + "}";
}

std::string TagKey(std::string_view tag) {
  std::string key(tag);
  for (char& ch : key) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return key;
}

std::string ContainsPattern(std::string_view text) {
  std::string pattern = "%";
  pattern.reserve(text.size() + 2);
  for (const char ch : TagKey(text)) {
    if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
    pattern += ch;
  }
  pattern += '%';
  return pattern;
}

}  // namespace kurz::adapters
