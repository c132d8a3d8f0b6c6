#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/link.hpp"

namespace kurz::http {

// Opaque list cursors (next_cursor of GET /v1/urls): base64url of "<created_at>.<code>" for the
// default order, "o<created_at>.<code>" for oldest first, "c<clicks>.<created_at>.<code>" for
// most clicked, so that a cursor of one order is refused by another.
std::string EncodeCursor(const core::ListCursor& cursor,
                         core::LinkSort sort = core::LinkSort::kNewest);
// The cursor EncodeCursor wrote for sort; nullopt for anything else (at most 128 characters, a
// non-negative time, a well-formed code).
std::optional<core::ListCursor> DecodeCursor(std::string_view text,
                                             core::LinkSort sort = core::LinkSort::kNewest);

}  // namespace kurz::http
