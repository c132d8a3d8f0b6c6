#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/click_event.hpp"
#include "core/time.hpp"

// Calendar helpers for the daily_stats table, kept here so that the adapter depends only on
// core's types.
namespace kurz::adapters::sqlite {

constexpr core::Micros kMicrosPerDay = 86'400 * core::kMicrosPerSecond;
// 0000-01-01 .. 9999-12-31: the days 'YYYY-MM-DD' can name (and that sort as text).
constexpr std::int32_t kMinDay = core::kMinStoredDay;
constexpr std::int32_t kMaxDay = core::kMaxStoredDay;

// The UTC day of an instant (days since 1970-01-01, rounded down).
std::int32_t DayOf(core::Micros t);
// "YYYY-MM-DD" for a day within kMinDay..kMaxDay.
std::string FormatDay(std::int32_t day);
// The day of a "YYYY-MM-DD" string; nullopt when malformed.
std::optional<std::int32_t> ParseDay(std::string_view text);

}  // namespace kurz::adapters::sqlite
