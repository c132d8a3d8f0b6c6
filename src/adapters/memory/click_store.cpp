#include "adapters/memory/click_store.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {
namespace {

constexpr core::Micros kMicrosPerDay = 86'400 * core::kMicrosPerSecond;
// As in the SQL adapter: batch ids are forgotten after a week (retries come within seconds).
constexpr core::Micros kKeepAppliedBatches = 7 * kMicrosPerDay;
// 0000-01-01 .. 9999-12-31, the days the SQL adapter can name as 'YYYY-MM-DD'.
constexpr std::int32_t kMinDay = -719'528;
constexpr std::int32_t kMaxDay = 2'932'896;

core::Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<bool> MemoryClickStore::Apply(const core::ClickBatch& batch) {
  return Guard([&]() -> Result<bool> {
    for (const core::ClickDelta& delta : batch.deltas) {
      if (delta.date.days < kMinDay || delta.date.days > kMaxDay || delta.clicks < 0) {
        return core::Fail(core::ErrorCode::kInvalidArgument,
                          "click delta: date beyond 0000..9999 or negative clicks");
      }
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
      link_clicks.reserve(batch.deltas.size());
      applied_order_.emplace_back(now, batch.id);
      applied_batches_.insert(batch.id);
      for (const core::ClickDelta& delta : batch.deltas) {
        if (delta.clicks == 0 && delta.visitors.empty()) continue;
        auto code = days_by_code_.find(delta.code);
        if (code == days_by_code_.end()) code = days_by_code_.try_emplace(delta.code).first;
        Day& day = code->second[delta.date.days];
        day.clicks += delta.clicks;
        day.visitors.insert(delta.visitors.begin(), delta.visitors.end());
        if (delta.clicks > 0) link_clicks.emplace_back(delta.code, delta.clicks);
      }
    }
    if (links_ != nullptr) {
      for (const auto& [code, clicks] : link_clicks) links_->AddClicks(code, clicks);
    }
    return true;
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
    auto it = days_by_code_.find(code);
    if (it == days_by_code_.end()) return stats;
    std::set<std::string_view> visitors;
    const auto end = it->second.upper_bound(last);
    for (auto day = it->second.lower_bound(first); day != end; ++day) {
      stats.total_clicks += day->second.clicks;
      stats.daily.push_back(
          core::DailyCount{core::Date{day->first}, day->second.clicks,
                           static_cast<std::int64_t>(day->second.visitors.size())});
      visitors.insert(day->second.visitors.begin(), day->second.visitors.end());
    }
    stats.unique_visitors = static_cast<std::int64_t>(visitors.size());
    return stats;
  });
}

// TODO(storage helper): not yet stored.
Result<std::vector<core::BucketCount>> MemoryClickStore::Series(std::string_view, core::Granularity,
                                                     core::Micros, core::Micros) {
  return std::vector<core::BucketCount>{};
}

}  // namespace kurz::adapters::memory
