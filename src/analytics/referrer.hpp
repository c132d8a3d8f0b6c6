#pragma once

#include <string>
#include <string_view>

namespace kurz::analytics {

// What the stats API shows for a click without a Referer header (or an empty one).
inline constexpr std::string_view kDirect = "(direct)";
// ... and for a Referer it cannot find a host in.
inline constexpr std::string_view kUnknownReferrer = "(unknown)";

// The host of a Referer header, lowercased, without scheme, user info, port, path, query,
// fragment or a trailing dot: "https://News.YCombinator.com:443/item?id=1" ->
// "news.ycombinator.com"; "android-app://com.google.android.gm/" -> "com.google.android.gm";
// an IPv6 literal loses its brackets. No header -> kDirect; no usable host -> kUnknownReferrer.
std::string ReferrerHost(std::string_view referer);

}  // namespace kurz::analytics
