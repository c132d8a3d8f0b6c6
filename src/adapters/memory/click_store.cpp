#include "adapters/memory/click_store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <vector>

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {
namespace {

constexpr core::Micros kMicrosPerDay = 86'400 * core::kMicrosPerSecond;
// As in the SQL adapter: batch ids are forgotten after a week (retries come within seconds).
constexpr core::Micros kKeepAppliedBatches = 7 * kMicrosPerDay;
// 0000-01-01 .. 9999-12-31, the days the SQL adapter can name as 'YYYY-MM-DD'.
constexpr std::int32_t kMinDay = core::kMinStoredDay;
constexpr std::int32_t kMaxDay = core::kMaxStoredDay;

core::Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void MemoryClickStore::AddBucket(std::map<core::Micros, core::BucketCount>& buckets,
                                 BucketIndex& index, const std::string& code,
                                 const core::BucketCount& b) {
  auto [it, inserted] = buckets.try_emplace(b.start, core::BucketCount{b.start, 0, 0});
  it->second.clicks += b.clicks;
  it->second.bot_clicks += b.bot_clicks;
  if (inserted) index.emplace(b.start, code);
}

void MemoryClickStore::Forget(BucketIndex& index,
                              std::map<core::Micros, core::BucketCount> Code::*buckets,
                              core::Micros before) {
  while (!index.empty() && index.begin()->first < before) {
    auto code = codes_.find(index.begin()->second);
    if (code != codes_.end()) (code->second.*buckets).erase(index.begin()->first);
    index.erase(index.begin());
  }
}

Result<bool> MemoryClickStore::Apply(const core::ClickBatch& batch) {
  return Guard([&]() -> Result<bool> {
    for (const core::ClickDelta& delta : batch.deltas) {
      if (std::optional<std::string> why = core::InvalidDelta(delta)) {
        return core::Fail(core::ErrorCode::kInvalidArgument, std::move(*why));
      }
    }
    if (std::optional<std::string> why = core::InvalidMoves(batch.positions)) {
      return core::Fail(core::ErrorCode::kInvalidArgument, std::move(*why));
    }
    const core::Micros now = NowMicros();
    std::vector<std::pair<std::string_view, std::int64_t>> link_clicks;
    {
      std::lock_guard lock(mu_);
      while (!applied_order_.empty() && applied_order_.front().first < now - kKeepAppliedBatches) {
        applied_batches_.erase(applied_order_.front().second);
        applied_order_.pop_front();
      }
      if (applied_batches_.contains(batch.id)) return false;
      // Every position is checked before anything changes, so a conflict applies nothing.
      for (const core::PositionMove& move : batch.positions) {
        auto stream = positions_.find(move.stream);
        if (stream == positions_.end()) continue;
        auto stored = stream->second.find(move.partition);
        if (stored != stream->second.end() && stored->second != move.from) {
          return std::unexpected(core::PositionConflict(move, stored->second));
        }
      }
      for (const core::PositionMove& move : batch.positions) {
        positions_[move.stream].insert_or_assign(move.partition, move.to);
      }
      link_clicks.reserve(batch.deltas.size());
      applied_order_.emplace_back(now, batch.id);
      applied_batches_.insert(batch.id);
      for (const core::ClickDelta& delta : batch.deltas) {
        const bool has_breakdowns = std::ranges::any_of(delta.breakdowns, core::HasClicks);
        const bool has_minutes = std::ranges::any_of(
            delta.minutes, [](const core::BucketCount& m) { return m.clicks + m.bot_clicks != 0; });
        if (delta.clicks == 0 && delta.bot_clicks == 0 && delta.visitors.empty() &&
            !has_breakdowns && !has_minutes) {
          continue;
        }
        auto code = codes_.find(delta.code);
        if (code == codes_.end()) code = codes_.try_emplace(delta.code).first;
        if (delta.clicks != 0 || delta.bot_clicks != 0 || !delta.visitors.empty() ||
            has_breakdowns) {
          Day& day = code->second.days[delta.date.days];
          day.clicks += delta.clicks;
          day.bot_clicks += delta.bot_clicks;
          day.visitors.insert(delta.visitors.begin(), delta.visitors.end());
          for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
            core::MergeBreakdown(day.breakdowns[i], delta.breakdowns[i]);
          }
        }
        for (const core::BucketCount& m : delta.minutes) {
          if (m.clicks == 0 && m.bot_clicks == 0) continue;
          AddBucket(code->second.minutes, minute_index_, delta.code, m);
          AddBucket(code->second.hours, hour_index_, delta.code,
                    core::BucketCount{core::HourOf(m.start), m.clicks, m.bot_clicks});
        }
        if (delta.clicks > 0) link_clicks.emplace_back(delta.code, delta.clicks);
      }
      Forget(minute_index_, &Code::minutes, now - core::kMinuteRetention);
      Forget(hour_index_, &Code::hours, now - core::kHourRetention);
    }
    if (links_ != nullptr) {
      for (const auto& [code, clicks] : link_clicks) links_->AddClicks(code, clicks);
    }
    return true;
  });
}

Result<std::vector<core::StreamPosition>> MemoryClickStore::Positions(std::string_view stream) {
  return Guard([&]() -> Result<std::vector<core::StreamPosition>> {
    std::vector<core::StreamPosition> positions;
    std::lock_guard lock(mu_);
    auto it = positions_.find(stream);
    if (it == positions_.end()) return positions;
    positions.reserve(it->second.size());
    for (const auto& [partition, offset] : it->second) {
      positions.push_back(core::StreamPosition{partition, offset});
    }
    return positions;
  });
}

Result<core::LinkStats> MemoryClickStore::Stats(std::string_view code, core::Date from,
                                                core::Date to) {
  return Guard([&]() -> Result<core::LinkStats> {
    core::LinkStats stats;
    const std::int32_t first = std::max(from.days, kMinDay);
    const std::int32_t last = std::min(to.days, kMaxDay);
    if (first > last) return stats;
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) return stats;
    std::set<std::string_view> visitors;
    // Summed without a cap (core::MergeBreakdown with an unbounded one), by value in a hash map.
    std::array<std::unordered_map<std::string_view, std::int64_t>, core::kDimensionCount> sums;
    const auto end = it->second.days.upper_bound(last);
    for (auto day = it->second.days.lower_bound(first); day != end; ++day) {
      stats.total_clicks += day->second.clicks;
      stats.bot_clicks += day->second.bot_clicks;
      stats.daily.push_back(core::DailyCount{core::Date{day->first}, day->second.clicks,
                                             static_cast<std::int64_t>(day->second.visitors.size()),
                                             day->second.bot_clicks});
      visitors.insert(day->second.visitors.begin(), day->second.visitors.end());
      for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
        for (const core::ValueCount& v : day->second.breakdowns[i]) {
          if (v.clicks != 0) sums[i][v.value] += v.clicks;
        }
      }
    }
    stats.unique_visitors = static_cast<std::int64_t>(visitors.size());
    for (std::size_t i = 0; i < core::kDimensionCount; ++i) {
      core::Breakdown& b = stats.breakdowns[i];
      b.reserve(sums[i].size());
      for (const auto& [value, clicks] : sums[i]) {
        b.push_back(core::ValueCount{std::string(value), clicks});
      }
      core::SortBreakdown(b);
    }
    return stats;
  });
}

Result<std::vector<core::BucketCount>> MemoryClickStore::Series(std::string_view code,
                                                                core::Granularity granularity,
                                                                core::Micros from,
                                                                core::Micros to) {
  return Guard([&]() -> Result<std::vector<core::BucketCount>> {
    std::vector<core::BucketCount> series;
    if (granularity != core::Granularity::kMinute && granularity != core::Granularity::kHour &&
        granularity != core::Granularity::kDay) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "series: unknown granularity");
    }
    if (from >= to) return series;
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) return series;
    if (granularity == core::Granularity::kDay) {
      // The days whose midnight lies in [from, to), clamped like Stats.
      std::int32_t first = core::DateOf(from).days;
      if (first < kMinDay) {
        first = kMinDay;
      } else if (core::StartOf(core::Date{first}) < from) {
        ++first;
      }
      const std::int32_t last = std::min(core::DateOf(to - 1).days, kMaxDay);
      if (first > last) return series;
      const auto end = it->second.days.upper_bound(last);
      for (auto day = it->second.days.lower_bound(first); day != end; ++day) {
        if (day->second.clicks == 0 && day->second.bot_clicks == 0) continue;
        series.push_back(core::BucketCount{core::StartOf(core::Date{day->first}),
                                           day->second.clicks, day->second.bot_clicks});
      }
      return series;
    }
    const std::map<core::Micros, core::BucketCount>& buckets =
        granularity == core::Granularity::kMinute ? it->second.minutes : it->second.hours;
    const auto end = buckets.lower_bound(to);
    for (auto b = buckets.lower_bound(from); b != end; ++b) series.push_back(b->second);
    return series;
  });
}

}  // namespace kurz::adapters::memory
