#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/link_options.hpp"
#include "core/time.hpp"

namespace kurz::core {

enum class RedirectType : std::uint16_t { k301 = 301, k302 = 302, k307 = 307, k308 = 308 };

struct Link {
  std::string code;
  std::string url;  // as the user gave it
  std::int64_t owner_id = 0;
  std::optional<std::int64_t> api_key_id;
  Micros created_at = 0;
  std::optional<Micros> expires_at;
  std::optional<Micros> deleted_at;
  bool is_custom = false;
  RedirectType redirect_type = RedirectType::k301;
  std::string metadata_json = "{}";  // a JSON object, at most 4 KiB
  std::int64_t click_count = 0;
  bool owner_suspended = false;  // filled by stores on reads (join with the owner)

  // Beyond the seed (core/link_options.hpp). Stores keep every field; reads fill them all.
  std::string title;              // "" = none
  std::vector<std::string> tags;  // as given (first spelling kept), unique case-insensitively
  bool forward_query = false;     // append the short URL's query string to the destination
  std::optional<std::string> password_hash;  // argon2id encoded string; never leaves the server
  std::optional<std::int64_t> max_clicks;    // the click budget
  std::int64_t clicks_used = 0;              // budget used: human redirects answered
  std::optional<std::string> expired_url;    // where an expired or exhausted link sends people
  std::vector<TargetRule> rules;
  std::vector<Variant> variants;
  std::optional<OpenGraph> og;

  // Whether its answer depends on the visitor, so no shared cache may keep it and no create
  // deduplicates onto it.
  bool IsPersonal() const {
    return password_hash.has_value() || max_clicks.has_value() || !rules.empty() ||
           !variants.empty();
  }
  // Whether a redirect needs more than (status, Location, expiry): core::LinkOptions is built.
  bool HasRedirectOptions() const {
    return IsPersonal() || forward_query || expired_url.has_value() || og.has_value();
  }

  // Whether a redirect must answer 410 at instant now.
  bool IsGoneAt(Micros now) const {
    return deleted_at.has_value() || owner_suspended || (expires_at && *expires_at <= now);
  }
};

// The orders GET /v1/urls offers (?sort=).
enum class LinkSort : std::uint8_t {
  kNewest,      // -created_at (the default): created_at desc, code desc
  kOldest,      // created_at: created_at asc, code asc
  kMostClicks,  // -clicks: click_count desc, created_at desc, code desc
};

// Keyset position in a listing: strictly after the link (click_count, created_at, code) in the
// listing's order (click_count is read only for kMostClicks).
struct ListCursor {
  Micros created_at = 0;
  std::string code;
  std::int64_t click_count = 0;
};

// Which of an owner's links (never deleted ones) to list, in which order.
struct LinkQuery {
  std::vector<std::string> tags;  // links carrying every one of them (case-insensitive)
  std::string text;               // "" or a case-insensitive substring of code, url or title
  LinkSort sort = LinkSort::kNewest;
  std::optional<ListCursor> after;
  int limit = 50;
};

// One of an owner's tags with the number of their links (not deleted) that carry it.
struct TagCount {
  std::string tag;  // the spelling of its first use
  std::int64_t links = 0;
};

}  // namespace kurz::core
