#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/account.hpp"
#include "core/link.hpp"

namespace kurz::adapters {

// How the SQL adapters store values in their columns (the same in SQLite and PostgreSQL).

// urls.redirect_type: 301, 302 or 307; anything else (set by hand) reads as 301.
core::RedirectType ToRedirectType(std::int64_t value);

// users.status: 'active' or 'suspended'.
std::string_view UserStatusText(core::UserStatus status);
// 'deleted' (only set by hand) reads as suspended: the user's keys and links stop working.
core::UserStatus ParseUserStatus(std::string_view text);

// api_keys.permissions: {"create":true,"read":true,"update":true,"delete":false,"admin":false}.
std::string PermissionsJson(core::Permissions permissions);

}  // namespace kurz::adapters
