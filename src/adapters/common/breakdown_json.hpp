#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/click_event.hpp"

namespace kurz::adapters {

// The SQL adapters' breakdown columns: a JSON object {"value": clicks}. Anything else (SQLite's
// old '[]' default of top_referrers, or text that is not JSON) reads as empty; so do members
// that are not integers.
template <class Visit>
void ForEachBreakdownValue(std::string_view text, Visit&& visit) {
  if (text.size() <= 2) return;  // "{}", "[]"
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return;
  for (const auto& [value, clicks] : json.items()) {
    if (clicks.is_number_integer()) visit(value, clicks.template get<std::int64_t>());
  }
}

inline core::Breakdown ParseBreakdown(std::string_view text) {
  core::Breakdown b;
  ForEachBreakdownValue(text, [&b](const std::string& value, std::int64_t clicks) {
    b.push_back(core::ValueCount{value, clicks});
  });
  return b;
}

inline std::string FormatBreakdown(const core::Breakdown& b) {
  nlohmann::json json = nlohmann::json::object();
  for (const core::ValueCount& v : b) json[v.value] = v.clicks;
  // Values come from request headers: invalid UTF-8 is stored as U+FFFD rather than refused.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kurz::adapters
