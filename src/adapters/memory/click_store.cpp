#include "adapters/memory/click_store.hpp"

#include <algorithm>

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {
namespace {

constexpr core::Micros kMicrosPerDay = 86'400 * core::kMicrosPerSecond;
// 0000-01-01 .. 9999-12-31, the days the SQL adapter can name as 'YYYY-MM-DD'.
constexpr std::int32_t kMinDay = -719'528;
constexpr std::int32_t kMaxDay = 2'932'896;

std::int32_t DayOf(core::Micros t) {
  core::Micros day = t / kMicrosPerDay;
  if (t % kMicrosPerDay < 0) --day;  // floor, also before 1970
  return static_cast<std::int32_t>(day);
}

}  // namespace

Result<std::size_t> MemoryClickStore::Append(std::span<const core::ClickRecord> batch) {
  return Guard([&]() -> Result<std::size_t> {
    std::map<std::string, std::int64_t, std::less<>> new_by_code;
    std::size_t added = 0;
    {
      std::lock_guard lock(mu_);
      for (const core::ClickRecord& click : batch) {
        if (!event_ids_.insert(click.event_id).second) continue;
        clicks_by_code_[click.code].push_back(Click{click.at, click.ip_hash});
        ++new_by_code[click.code];
        ++added;
      }
    }
    if (links_ != nullptr) {
      for (const auto& [code, clicks] : new_by_code) links_->AddClicks(code, clicks);
    }
    return added;
  });
}

Result<core::LinkStats> MemoryClickStore::Stats(std::string_view code, core::Date from,
                                                core::Date to) {
  return Guard([&]() -> Result<core::LinkStats> {
    core::LinkStats stats;
    const std::int32_t first = std::max(from.days, kMinDay);
    const std::int32_t last = std::min(to.days, kMaxDay);
    if (first > last) return stats;
    struct Day {
      std::int64_t clicks = 0;
      std::set<std::string_view> visitors;
    };
    std::lock_guard lock(mu_);
    auto it = clicks_by_code_.find(code);
    if (it == clicks_by_code_.end()) return stats;
    std::map<std::int32_t, Day> days;
    std::set<std::string_view> visitors;
    for (const Click& click : it->second) {
      const std::int32_t day = DayOf(click.at);
      if (day < first || day > last) continue;
      Day& d = days[day];
      ++d.clicks;
      d.visitors.insert(click.ip_hash);
      visitors.insert(click.ip_hash);
    }
    for (const auto& [day, d] : days) {
      stats.total_clicks += d.clicks;
      stats.daily.push_back(core::DailyCount{core::Date{day}, d.clicks,
                                             static_cast<std::int64_t>(d.visitors.size())});
    }
    stats.unique_visitors = static_cast<std::int64_t>(visitors.size());
    return stats;
  });
}

}  // namespace kurz::adapters::memory
