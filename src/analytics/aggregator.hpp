#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "analytics/click_message.hpp"
#include "analytics/visitor.hpp"
#include "core/click_event.hpp"
#include "ports/geo_locator.hpp"
#include "ports/user_agent_parser.hpp"

namespace kurz::analytics {

// The analytics pipeline of one consumer thread: enriches click events (user agent -> browser,
// OS, device and bot; client IP -> country and city, then a visitor id; Referer -> host) and
// aggregates them per (code, UTC day) until Take() hands the window over as ClickDeltas for a
// ClickLog. The embedded server runs it on its click-drain thread on captured events; `kurz
// worker` runs it on click-events messages, whose visitor id and location the producing server
// filled in already (so the IP never leaves that server).
//
// Bots (core::ClickDelta::bot_clicks) are counted apart and in nothing else: not in clicks,
// visitors, breakdowns. Per-minute buckets count both. Not thread-safe.
class Aggregator {
 public:
  Aggregator(ports::UserAgentParser& user_agents, const ports::GeoLocator& geo,
             std::string ip_salt_secret);

  // What enrichment made of one click (for the raw clicks table).
  struct Enrichment {
    ports::UserAgentInfo agent;
    bool bot = false;      // a known bot, or a HEAD request
    std::string referrer;  // host, "(direct)" or "(unknown)"
  };

  // A click captured by this process: hashes the IP into a visitor id and locates it.
  void Add(const core::ClickEvent& event);
  // A click from the click-events stream (visitor id and location given). The result is valid
  // until the next Add.
  const Enrichment& Add(const ClickMessage& message);
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

  // One click, whichever way it came.
  struct Click {
    std::string_view code;
    core::Micros at = 0;
    bool head = false;
    std::string_view user_agent;
    std::string_view referrer;
    const VisitorId* visitor = nullptr;  // computed from `ip` when null
    const IpBytes* ip = nullptr;
    const ports::GeoInfo* geo = nullptr;  // located from `ip` when null
  };
  void AddClick(const Click& click);
  Pending& Slot(std::string_view code, core::Date day);

  ports::UserAgentParser& user_agents_;
  const ports::GeoLocator& geo_;
  VisitorHasher visitors_;
  std::unordered_map<Key, Pending, KeyHash> window_;
  std::int64_t events_ = 0;
  Key probe_;  // reused lookup key: no allocation for a code already in the window
  Enrichment enrichment_;
  ports::GeoInfo geo_message_;  // reused by Add(ClickMessage)
};

}  // namespace kurz::analytics
