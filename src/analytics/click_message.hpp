#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analytics/visitor.hpp"
#include "core/click_event.hpp"
#include "core/error.hpp"
#include "ports/geo_locator.hpp"

namespace kurz::analytics {

// One click as a message of the click-events stream (schema version 1, docs/events.md): what
// the process that answered the redirect knows of it. The client IP is not in it: that process
// turns the IP into a visitor id (keyed hash with the day's salt) and a location first, so the
// stream holds no address.
struct ClickMessage {
  std::string id;       // event id: 32 lowercase hex characters, unique per click
  core::Micros at = 0;  // when the redirect was answered, microseconds since 1970 (UTC)
  std::string code;
  std::string visitor;  // 32 lowercase hex characters
  std::string country;  // ISO 3166-1 alpha-2; "ZZ" when unknown
  std::string city;     // English name; empty when unknown
  std::string user_agent;
  std::string referrer;  // the Referer header as sent (up to 255 bytes)
  std::string accept_language;
  bool head = false;  // a HEAD request (never a human)
};

inline constexpr int kClickMessageVersion = 1;

// Builds the message of a captured click: the visitor id from `visitors` and the location from
// `geo`. Reuses `out`'s storage.
void MessageOf(const core::ClickEvent& event, VisitorHasher& visitors, const ports::GeoLocator& geo,
               ClickMessage& out);

// Appends the JSON of `message` to `out`: one object, keys in a fixed order, no whitespace.
void EncodeClickMessage(const ClickMessage& message, std::string& out);

// Parses a message. invalid_argument (naming the problem) for anything that is not a version-1
// object with a valid id, time, code and visitor; unknown keys are ignored (a later producer
// may add some). A later major version is refused.
core::Result<void> DecodeClickMessage(std::string_view text, ClickMessage& out);

}  // namespace kurz::analytics
