#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurz::http {

// The percent-decoded value of `name` in a query string ("a=1&b=x%20y"; '+' is a space); the
// first occurrence wins; "" for a name without '='; nullopt when absent.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);
// Every value of a repeatable parameter, in order (decoded as QueryParam does).
std::vector<std::string> QueryParams(std::string_view query, std::string_view name);

// A whole decimal number within [lo, hi], nothing else ("1e3", "+5", " 5" are not).
std::optional<int> ParseIntIn(std::string_view text, int lo, int hi);

// A path id: a whole decimal number greater than 0.
std::optional<std::int64_t> ParsePositiveId(std::string_view text);

}  // namespace kurz::http
