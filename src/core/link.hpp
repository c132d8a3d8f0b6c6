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

// Keyset position for "newest first" listing: strictly older than (created_at, code).
struct ListCursor {
  Micros created_at = 0;
  std::string code;
};

}  // namespace kurz::core
