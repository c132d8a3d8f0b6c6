#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/time.hpp"

namespace kurz::core {

enum class RedirectType : std::uint16_t { k301 = 301, k302 = 302, k307 = 307 };

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
