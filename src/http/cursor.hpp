#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/link.hpp"

namespace kurz::http {

// Opaque list cursors (next_cursor of GET /v1/urls): base64url of "<created_at>.<code>".
std::string EncodeCursor(const core::ListCursor& cursor);
// The cursor EncodeCursor wrote; nullopt for anything else (at most 128 characters, a
// non-negative time, a well-formed code).
std::optional<core::ListCursor> DecodeCursor(std::string_view text);

}  // namespace kurz::http
