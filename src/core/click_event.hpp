#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/fixed_string.hpp"
#include "core/short_code.hpp"
#include "core/time.hpp"

namespace kurz::core {

// One answered redirect, as captured on the hot path: fixed size, no pointers, so it can be
// copied into a preallocated ring. The client IP is kept only until it is hashed.
struct ClickEvent {
  std::uint64_t id_hi = 0;  // random per process
  std::uint64_t id_lo = 0;  // sequence within the process
  Micros at = 0;
  CodeBuffer code;
  std::array<std::uint8_t, 16> ip{};  // IPv6, or IPv4-mapped IPv6
  FixedString<256> user_agent;
  FixedString<256> referrer;
  FixedString<64> accept_language;
};

// The clicks of one code on one day, aggregated by the drain over a short window: what the
// ClickLog stores instead of one row per click.
struct ClickDelta {
  std::string code;
  Date date;
  std::int64_t clicks = 0;
  Micros last_clicked_at = 0;
  // Distinct visitors seen in the window: keyed hashes of their IPs with the day's salt (never
  // an IP). The store counts each visitor once per code and day.
  std::vector<std::string> visitors;
};

// One unit of work for the ClickLog. Applying the same id twice changes nothing.
struct ClickBatch {
  std::string id;
  std::vector<ClickDelta> deltas;
};

struct DailyCount {
  Date date;
  std::int64_t clicks = 0;
  std::int64_t unique_visitors = 0;
};

struct LinkStats {
  std::int64_t total_clicks = 0;
  std::int64_t unique_visitors = 0;  // distinct visitors over the whole range
  std::vector<DailyCount> daily;     // one entry per day that had clicks, oldest first
};

}  // namespace kurz::core
