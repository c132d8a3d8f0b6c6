#include "analytics/referrer.hpp"

#include <algorithm>

namespace kurz::analytics {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

// Characters of a registered name (RFC 3986 unreserved and sub-delims would allow more, but a
// host a browser sends is letters, digits, '-', '.', '_' or, for IDNs, already punycode).
bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

constexpr std::size_t kMaxHost = 253;

}  // namespace

std::string ReferrerHost(std::string_view referer) {
  while (!referer.empty() && IsSpace(referer.front())) referer.remove_prefix(1);
  while (!referer.empty() && IsSpace(referer.back())) referer.remove_suffix(1);
  if (referer.empty()) return std::string(kDirect);

  // Skip "scheme://" or a network-path "//"; a bare "host/path" is taken as it comes.
  std::string_view rest = referer;
  if (const auto colon = rest.find("://");
      colon != std::string_view::npos && colon > 0 &&
      std::all_of(rest.begin(), rest.begin() + colon, IsSchemeChar)) {
    rest.remove_prefix(colon + 3);
  } else if (rest.starts_with("//")) {
    rest.remove_prefix(2);
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#\\"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }

  std::string_view host = authority;
  bool ipv6 = false;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::string(kUnknownReferrer);
    host = host.substr(1, close - 1);
    ipv6 = true;
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  while (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxHost) return std::string(kUnknownReferrer);

  std::string out(host);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = ipv6 ? (IsHostChar(c) || c == ':') : IsHostChar(c);
    if (!ok) return std::string(kUnknownReferrer);
  }
  return out;
}

}  // namespace kurz::analytics
