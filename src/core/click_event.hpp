#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
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
  bool head = false;  // a HEAD request: no browser follows a link with one, so never a human
};

// The dimensions human clicks are broken down by, in the stats API's order.
enum class Dimension : std::uint8_t { kReferrer, kCountry, kDevice, kBrowser, kOs, kCity };
inline constexpr std::size_t kDimensionCount = 6;
// The stats API's name of a dimension: "referrers", "countries", "devices", "browsers", "os",
// "cities".
std::string_view DimensionName(Dimension d);

// Clicks with one value of a dimension ("news.ycombinator.com": 300).
struct ValueCount {
  std::string value;
  std::int64_t clicks = 0;
  bool operator==(const ValueCount&) const = default;
};
using Breakdown = std::vector<ValueCount>;
using Breakdowns = std::array<Breakdown, kDimensionCount>;

// At most this many distinct values are kept per dimension, code and day; clicks with further
// values are counted under kOtherValue (a day's referrers could otherwise grow without bound).
inline constexpr std::size_t kMaxValuesPerDay = 100;
inline constexpr std::string_view kOtherValue = "(other)";

// Adds `add` into `into` (values matched exactly). A value new to `into` when it already holds
// `cap` values (kOtherValue not counted) goes to kOtherValue.
void MergeBreakdown(Breakdown& into, const Breakdown& add, std::size_t cap = kMaxValuesPerDay);
// Most clicks first; equal counts by value, ascending.
void SortBreakdown(Breakdown& b);

// Clicks of one code in one minute or hour ("bucket": its start).
struct BucketCount {
  Micros start = 0;
  std::int64_t clicks = 0;
  std::int64_t bot_clicks = 0;
  bool operator==(const BucketCount&) const = default;
};

inline constexpr Micros kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr Micros kMicrosPerHour = 60 * kMicrosPerMinute;
// Per-minute counts are kept for 48 hours, per-hour counts for 366 days (the longest range the
// stats API serves); older ones are deleted as new batches are applied.
inline constexpr Micros kMinuteRetention = 48 * kMicrosPerHour;
inline constexpr Micros kHourRetention = Micros{366} * 24 * kMicrosPerHour;

// The clicks of one code on one day, aggregated by the analytics pipeline over a short window:
// what the ClickLog stores instead of one row per click.
struct ClickDelta {
  std::string code;
  Date date;
  std::int64_t clicks = 0;      // human clicks
  std::int64_t bot_clicks = 0;  // crawlers, link previews, scanners: never in anything else
  Micros last_clicked_at = 0;   // of the last human click; 0 when none
  // Distinct human visitors seen in the window: keyed hashes of their IPs with the day's salt
  // (never an IP). The store counts each visitor once per code and day.
  std::vector<std::string> visitors;
  // Human clicks by value of each dimension (indexed by Dimension).
  Breakdowns breakdowns;
  // Clicks per minute of this day (bucket starts are whole minutes within `date`), any order.
  std::vector<BucketCount> minutes;
};

// The days stores can name as 'YYYY-MM-DD': 0000-01-01 .. 9999-12-31 (days since 1970-01-01).
inline constexpr std::int32_t kMinStoredDay = -719'528;
inline constexpr std::int32_t kMaxStoredDay = 2'932'896;

// Why a ClickLog must refuse this delta (dated beyond kMinStoredDay..kMaxStoredDay, a negative
// count anywhere, a minute bucket that is not a whole minute of its day); nullopt when valid.
// Every adapter checks the whole batch with it before applying anything.
std::optional<std::string> InvalidDelta(const ClickDelta& delta);
// The start of the hour t lies in (also before 1970).
Micros HourOf(Micros t);
// Sorts buckets by start, sums those with the same start and drops empty ones.
void SumByStart(std::vector<BucketCount>& buckets);
// The per-hour buckets of per-minute ones (summed by SumByStart).
std::vector<BucketCount> HoursOf(const std::vector<BucketCount>& minutes);
// Whether any value of the breakdown has clicks.
bool HasClicks(const Breakdown& b);

// A place in one partition of an event stream: the offset of the next message to read.
struct StreamPosition {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  bool operator==(const StreamPosition&) const = default;
};

// A consumer's progress in one partition of an event stream, carried by the batch it read:
// the batch holds the messages at offsets [from, to).
struct PositionMove {
  std::string stream;  // e.g. "<consumer group>/<topic>"
  std::int32_t partition = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  bool operator==(const PositionMove&) const = default;
};

// Why a ClickLog must refuse these moves (an empty stream, a negative partition or offset, `to`
// before `from`, one (stream, partition) moved twice); nullopt when valid. Every adapter checks
// them with it before applying anything.
std::optional<std::string> InvalidMoves(const std::vector<PositionMove>& moves);
// The conflict a ClickLog fails with when `move.from` is not the stored offset `stored`.
Error PositionConflict(const PositionMove& move, std::int64_t stored);

// One unit of work for the ClickLog. Applying the same id twice changes nothing. A batch read
// from an event stream also moves the stored positions (see ports::ClickLog::Apply).
struct ClickBatch {
  std::string id;
  std::vector<ClickDelta> deltas;
  std::vector<PositionMove> positions = {};  // "= {}": batches built as {id, deltas} need none
};

struct DailyCount {
  Date date;
  std::int64_t clicks = 0;
  std::int64_t unique_visitors = 0;
  std::int64_t bot_clicks = 0;
  bool operator==(const DailyCount&) const = default;
};

struct LinkStats {
  std::int64_t total_clicks = 0;  // human clicks
  std::int64_t bot_clicks = 0;
  std::int64_t unique_visitors = 0;  // distinct visitors over the whole range
  std::vector<DailyCount> daily;  // one entry per day that had clicks (human or bot), oldest first
  Breakdowns breakdowns;          // over the range, each sorted by SortBreakdown, not truncated
};

enum class Granularity : std::uint8_t { kMinute, kHour, kDay };

}  // namespace kurz::core
