#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::core {

constexpr std::size_t kMaxUrlLength = 2048;

struct ValidatedUrl {
  std::string url;       // as given by the user (stored)
  std::string location;  // ASCII form for the Location header: IDN host in punycode, non-ASCII
                         // and unsafe bytes of path/query/fragment percent-encoded as UTF-8
};

// Applies every link rule of API.md: absolute http/https URL, at most 2048 bytes, a host, no
// user-info, no control characters or spaces, valid UTF-8, a valid port, and not pointing at
// this service itself (self_host is the authority of --base-url, e.g. "sho.rt" or
// "localhost:8080"; compared case-insensitively, default ports normalised). invalid_url with a
// message naming the rule otherwise.
Result<ValidatedUrl> ValidateUrl(std::string_view url, std::string_view self_host);

// The Location form of an already validated URL (same as ValidateUrl(...).location).
std::string ToAsciiUrl(std::string_view url);

// RFC 3492 punycode of one label's Unicode code points (UTF-8 in), without the "xn--" prefix.
// invalid_argument on malformed UTF-8.
Result<std::string> PunycodeEncode(std::string_view utf8_label);

}  // namespace kurz::core
