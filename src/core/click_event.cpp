#include "core/click_event.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace kurz::core {

std::string_view DimensionName(Dimension d) {
  switch (d) {
    case Dimension::kReferrer:
      return "referrers";
    case Dimension::kCountry:
      return "countries";
    case Dimension::kDevice:
      return "devices";
    case Dimension::kBrowser:
      return "browsers";
    case Dimension::kOs:
      return "os";
    case Dimension::kCity:
      return "cities";
  }
  return "unknown";
}

void MergeBreakdown(Breakdown& into, const Breakdown& add, std::size_t cap) {
  std::size_t distinct = 0;
  for (const ValueCount& v : into) {
    if (v.value != kOtherValue) ++distinct;
  }
  auto find = [&into](std::string_view value) {
    return std::ranges::find(into, value, &ValueCount::value);
  };
  for (const ValueCount& v : add) {
    if (v.clicks == 0) continue;
    std::string_view value = v.value;
    auto it = find(value);
    if (it == into.end() && value != kOtherValue && distinct >= cap) {
      value = kOtherValue;
      it = find(value);
    }
    if (it == into.end()) {
      into.push_back(ValueCount{std::string(value), 0});
      if (value != kOtherValue) ++distinct;
      it = into.end() - 1;
    }
    it->clicks += v.clicks;
  }
}

std::optional<std::string> InvalidDelta(const ClickDelta& delta) {
  if (delta.date.days < kMinStoredDay || delta.date.days > kMaxStoredDay) {
    return "click delta: date beyond 0000..9999";
  }
  if (delta.clicks < 0 || delta.bot_clicks < 0) return "click delta: negative clicks";
  for (const Breakdown& b : delta.breakdowns) {
    for (const ValueCount& v : b) {
      if (v.clicks < 0) return "click delta: negative clicks in a breakdown";
    }
  }
  const Micros day_start = StartOf(delta.date);
  constexpr Micros kMicrosPerDay = 24 * kMicrosPerHour;
  for (const BucketCount& m : delta.minutes) {
    if (m.clicks < 0 || m.bot_clicks < 0) return "click delta: negative clicks in a minute";
    if (m.start % kMicrosPerMinute != 0 || m.start < day_start ||
        m.start >= day_start + kMicrosPerDay) {
      return "click delta: a minute bucket that is not a whole minute of its day";
    }
  }
  return std::nullopt;
}

std::optional<std::string> InvalidMoves(const std::vector<PositionMove>& moves) {
  std::vector<std::pair<std::string_view, std::int32_t>> partitions;
  partitions.reserve(moves.size());
  for (const PositionMove& m : moves) {
    if (m.stream.empty()) return "stream position: empty stream name";
    if (m.partition < 0) return "stream position: negative partition";
    if (m.from < 0 || m.to < 0) return "stream position: negative offset";
    if (m.to < m.from) return "stream position: moved backwards (to < from)";
    partitions.emplace_back(m.stream, m.partition);
  }
  std::ranges::sort(partitions);
  if (std::ranges::adjacent_find(partitions) != partitions.end()) {
    return "stream position: one partition moved twice in a batch";
  }
  return std::nullopt;
}

Error PositionConflict(const PositionMove& move, std::int64_t stored) {
  std::string detail = "stream position of ";
  detail += move.stream;
  detail += " partition ";
  detail += std::to_string(move.partition);
  detail += " is ";
  detail += std::to_string(stored);
  detail += ", not ";
  detail += std::to_string(move.from);
  detail += ": another consumer moved it";
  return Error{ErrorCode::kConflict, std::move(detail)};
}

Micros HourOf(Micros t) {
  Micros into = t % kMicrosPerHour;
  if (into < 0) into += kMicrosPerHour;
  return t - into;
}

void SumByStart(std::vector<BucketCount>& buckets) {
  std::erase_if(buckets, [](const BucketCount& b) { return b.clicks == 0 && b.bot_clicks == 0; });
  std::ranges::sort(buckets, {}, &BucketCount::start);
  std::vector<BucketCount> merged;
  merged.reserve(buckets.size());
  for (const BucketCount& b : buckets) {
    if (!merged.empty() && merged.back().start == b.start) {
      merged.back().clicks += b.clicks;
      merged.back().bot_clicks += b.bot_clicks;
    } else {
      merged.push_back(b);
    }
  }
  buckets = std::move(merged);
}

std::vector<BucketCount> HoursOf(const std::vector<BucketCount>& minutes) {
  std::vector<BucketCount> hours;
  hours.reserve(minutes.size());
  for (const BucketCount& m : minutes) {
    hours.push_back(BucketCount{HourOf(m.start), m.clicks, m.bot_clicks});
  }
  SumByStart(hours);
  return hours;
}

bool HasClicks(const Breakdown& b) {
  return std::ranges::any_of(b, [](const ValueCount& v) { return v.clicks != 0; });
}

void SortBreakdown(Breakdown& b) {
  std::ranges::sort(b, [](const ValueCount& x, const ValueCount& y) {
    return x.clicks != y.clicks ? x.clicks > y.clicks : x.value < y.value;
  });
}

}  // namespace kurz::core
