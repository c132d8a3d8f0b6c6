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

// url_tags.tag_key: the tag with ASCII letters lower-cased, so tags compare case-insensitively
// (ASCII folding: "Ä" and "ä" stay two tags).
std::string TagKey(std::string_view tag);

// A LIKE pattern (ESCAPE '\') matching any text that contains `text` with ASCII letters in any
// case, the pattern lower-cased: %, _ and \ in text match themselves. The adapters compare it
// with the column's ASCII-lower-cased form (SQLite's LIKE folds ASCII case itself).
std::string ContainsPattern(std::string_view text);

}  // namespace kurz::adapters
