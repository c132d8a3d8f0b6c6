#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::core {

// Wall-clock instants are microseconds since the Unix epoch, UTC.
using Micros = std::int64_t;
constexpr Micros kMicrosPerSecond = 1'000'000;

// A calendar day (UTC), as days since 1970-01-01.
struct Date {
  std::int32_t days = 0;
  friend auto operator<=>(const Date&, const Date&) = default;
};

// "2026-11-27T23:54:27Z" (seconds precision, UTC).
std::string FormatRfc3339(Micros t);
// Accepts RFC 3339 date-times: "2026-11-27T23:54:27Z", fractional seconds, and numeric offsets
// ("+02:00"); lowercase 't'/'z' too. invalid_argument otherwise (also for impossible dates).
Result<Micros> ParseRfc3339(std::string_view s);

// "YYYY-MM-DD".
std::string FormatDate(Date d);
// Strict "YYYY-MM-DD" with a real calendar day; invalid_argument otherwise.
Result<Date> ParseDate(std::string_view s);
Date DateOf(Micros t);
Micros StartOf(Date d);

}  // namespace kurz::core
