#include "analytics/aggregator.hpp"

#include <algorithm>
#include <functional>

#include "analytics/referrer.hpp"

namespace kurz::analytics {
namespace {

void Bump(core::Breakdown& breakdown, std::string_view value) {
  for (core::ValueCount& v : breakdown) {
    if (v.value == value) {
      ++v.clicks;
      return;
    }
  }
  breakdown.push_back(core::ValueCount{std::string(value), 1});
}

core::BucketCount& MinuteOf(std::vector<core::BucketCount>& minutes, core::Micros at) {
  const core::Micros start =
      at - (((at % core::kMicrosPerMinute) + core::kMicrosPerMinute) % core::kMicrosPerMinute);
  // Events arrive roughly in time order: the bucket is nearly always the last one.
  for (auto it = minutes.rbegin(); it != minutes.rend(); ++it) {
    if (it->start == start) return *it;
  }
  return minutes.emplace_back(core::BucketCount{start, 0, 0});
}

std::size_t Index(core::Dimension d) { return static_cast<std::size_t>(d); }

}  // namespace

std::size_t Aggregator::KeyHash::operator()(const Key& k) const noexcept {
  return std::hash<std::string_view>{}(k.code) ^ (static_cast<std::size_t>(k.day) * 0x9E3779B9u);
}

Aggregator::Aggregator(ports::UserAgentParser& user_agents, const ports::GeoLocator& geo,
                       std::string ip_salt_secret)
    : user_agents_(user_agents), geo_(geo), visitors_(std::move(ip_salt_secret)) {}

Aggregator::Pending& Aggregator::Slot(const core::ClickEvent& event, core::Date day) {
  probe_.code.assign(event.code.view());
  probe_.day = day.days;
  auto it = window_.find(probe_);
  if (it == window_.end()) it = window_.emplace(probe_, Pending{}).first;
  return it->second;
}

void Aggregator::Add(const core::ClickEvent& event) {
  ++events_;
  const core::Date day = core::DateOf(event.at);
  Pending& pending = Slot(event, day);
  core::BucketCount& minute = MinuteOf(pending.minutes, event.at);

  const ports::UserAgentInfo agent = user_agents_.Parse(event.user_agent.view());
  if (agent.is_bot || event.head) {
    ++pending.bot_clicks;
    ++minute.bot_clicks;
    return;
  }
  ++pending.clicks;
  ++minute.clicks;
  pending.last_clicked_at = std::max(pending.last_clicked_at, event.at);

  const VisitorId visitor = visitors_.Id(event.ip, day);
  if (pending.visitors.empty() || pending.visitors.back() != visitor) {
    pending.visitors.push_back(visitor);
  }

  const ports::GeoInfo geo = geo_.Locate(event.ip);
  core::Breakdowns& b = pending.breakdowns;
  Bump(b[Index(core::Dimension::kReferrer)], ReferrerHost(event.referrer.view()));
  Bump(b[Index(core::Dimension::kCountry)], geo.country);
  Bump(b[Index(core::Dimension::kDevice)], agent.device);
  Bump(b[Index(core::Dimension::kBrowser)], agent.browser);
  Bump(b[Index(core::Dimension::kOs)], agent.os);
  if (geo.city.empty()) {
    Bump(b[Index(core::Dimension::kCity)], "(unknown)");
  } else {
    std::string city = geo.city;
    city += ", ";
    city += geo.country;
    Bump(b[Index(core::Dimension::kCity)], city);
  }
}

std::vector<core::ClickDelta> Aggregator::Take() {
  std::vector<core::ClickDelta> deltas;
  deltas.reserve(window_.size());
  for (auto& [key, pending] : window_) {
    core::ClickDelta delta;
    delta.code = key.code;
    delta.date = core::Date{key.day};
    delta.clicks = pending.clicks;
    delta.bot_clicks = pending.bot_clicks;
    delta.last_clicked_at = pending.last_clicked_at;
    std::sort(pending.visitors.begin(), pending.visitors.end());
    pending.visitors.erase(std::unique(pending.visitors.begin(), pending.visitors.end()),
                           pending.visitors.end());
    delta.visitors.reserve(pending.visitors.size());
    for (const VisitorId& v : pending.visitors) delta.visitors.push_back(VisitorHasher::Hex(v));
    delta.breakdowns = std::move(pending.breakdowns);
    delta.minutes = std::move(pending.minutes);
    deltas.push_back(std::move(delta));
  }
  window_.clear();
  events_ = 0;
  return deltas;
}

}  // namespace kurz::analytics
