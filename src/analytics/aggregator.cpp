#include "analytics/aggregator.hpp"

#include <algorithm>
#include <functional>
#include <ranges>

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
  for (core::BucketCount& minute : std::views::reverse(minutes)) {
    if (minute.start == start) return minute;
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

Aggregator::Pending& Aggregator::Slot(std::string_view code, core::Date day) {
  probe_.code.assign(code);
  probe_.day = day.days;
  auto it = window_.find(probe_);
  if (it == window_.end()) it = window_.emplace(probe_, Pending{}).first;
  return it->second;
}

void Aggregator::Add(const core::ClickEvent& event) {
  AddClick(Click{.code = event.code.view(),
                 .at = event.at,
                 .head = event.head,
                 .user_agent = event.user_agent.view(),
                 .referrer = event.referrer.view(),
                 .ip = &event.ip});
}

const Aggregator::Enrichment& Aggregator::Add(const ClickMessage& message) {
  VisitorId visitor{};
  for (std::size_t i = 0; i < visitor.size() && 2 * i + 1 < message.visitor.size(); ++i) {
    auto nibble = [](char c) {
      return static_cast<std::uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    };
    visitor[i] = static_cast<std::uint8_t>(nibble(message.visitor[2 * i]) << 4 |
                                           nibble(message.visitor[2 * i + 1]));
  }
  geo_message_.country = message.country;
  geo_message_.city = message.city;
  AddClick(Click{.code = message.code,
                 .at = message.at,
                 .head = message.head,
                 .user_agent = message.user_agent,
                 .referrer = message.referrer,
                 .visitor = &visitor,
                 .geo = &geo_message_});
  return enrichment_;
}

void Aggregator::AddClick(const Click& click) {
  ++events_;
  const core::Date day = core::DateOf(click.at);
  Pending& pending = Slot(click.code, day);
  core::BucketCount& minute = MinuteOf(pending.minutes, click.at);

  enrichment_.agent = user_agents_.Parse(click.user_agent);
  const ports::UserAgentInfo& agent = enrichment_.agent;
  enrichment_.bot = agent.is_bot || click.head;
  enrichment_.referrer = ReferrerHost(click.referrer);
  if (enrichment_.bot) {
    ++pending.bot_clicks;
    ++minute.bot_clicks;
    return;
  }
  ++pending.clicks;
  ++minute.clicks;
  pending.last_clicked_at = std::max(pending.last_clicked_at, click.at);

  const VisitorId visitor =
      click.visitor != nullptr ? *click.visitor : visitors_.Id(*click.ip, day);
  if (pending.visitors.empty() || pending.visitors.back() != visitor) {
    pending.visitors.push_back(visitor);
  }

  const ports::GeoInfo located = click.geo != nullptr ? ports::GeoInfo{} : geo_.Locate(*click.ip);
  const ports::GeoInfo& geo = click.geo != nullptr ? *click.geo : located;
  core::Breakdowns& b = pending.breakdowns;
  Bump(b[Index(core::Dimension::kReferrer)], enrichment_.referrer);
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
    std::ranges::sort(pending.visitors);
    const auto duplicates = std::ranges::unique(pending.visitors);
    pending.visitors.erase(duplicates.begin(), duplicates.end());
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
