#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "analytics/visitor.hpp"
#include "core/click_event.hpp"
#include "ports/geo_locator.hpp"
#include "ports/user_agent_parser.hpp"

namespace kurz::analytics {

// The analytics pipeline of one consumer thread: enriches click events (user agent -> browser,
// OS, device and bot; client IP -> country and city, then a visitor id; Referer -> host) and
// aggregates them per (code, UTC day) until Take() hands the window over as ClickDeltas for a
// ClickLog. The embedded server runs it on its click-drain thread; a queue consumer can run the
// same.
//
// Bots (core::ClickDelta::bot_clicks) are counted apart and in nothing else: not in clicks,
// visitors, breakdowns. Per-minute buckets count both. Not thread-safe.
class Aggregator {
 public:
  Aggregator(ports::UserAgentParser& user_agents, const ports::GeoLocator& geo,
             std::string ip_salt_secret);

  void Add(const core::ClickEvent& event);
  // What was added since the last Take, one delta per (code, day); leaves the window empty.
  std::vector<core::ClickDelta> Take();

  // Distinct (code, day) pairs and events in the current window.
  std::size_t keys() const { return window_.size(); }
  std::int64_t events() const { return events_; }

  VisitorHasher& visitors() { return visitors_; }

 private:
  struct Key {
    std::string code;
    std::int32_t day;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Pending {
    std::int64_t clicks = 0;
    std::int64_t bot_clicks = 0;
    core::Micros last_clicked_at = 0;
    std::vector<VisitorId> visitors;  // may repeat; deduplicated by Take
    core::Breakdowns breakdowns;
    std::vector<core::BucketCount> minutes;
  };

  Pending& Slot(const core::ClickEvent& event, core::Date day);

  ports::UserAgentParser& user_agents_;
  const ports::GeoLocator& geo_;
  VisitorHasher visitors_;
  std::unordered_map<Key, Pending, KeyHash> window_;
  std::int64_t events_ = 0;
  Key probe_;  // reused lookup key: no allocation for a code already in the window
};

}  // namespace kurz::analytics
