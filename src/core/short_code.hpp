#pragma once

#include <string_view>

#include "core/error.hpp"
#include "core/fixed_string.hpp"

namespace kurz::core {

constexpr std::size_t kMinCustomCodeLength = 3;
constexpr std::size_t kMaxCodeLength = 32;
using CodeBuffer = FixedString<kMaxCodeLength>;

// True when s could be a short code at all: 1..32 characters of [A-Za-z0-9_-]. Used on the
// redirect path to reject junk before any lookup (no allocation).
bool LooksLikeCode(std::string_view s);

// Rules for a user-chosen code: 3..32 characters of [A-Za-z0-9_-], not a reserved word
// (v1, api, healthz, readyz, metrics, ui, static, admin, favicon.ico, robots.txt; compared
// case-insensitively). invalid_code with a message saying which rule failed.
Result<void> ValidateCustomCode(std::string_view code);

bool IsReservedWord(std::string_view code);

}  // namespace kurz::core
