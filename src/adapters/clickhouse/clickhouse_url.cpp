#include "adapters/clickhouse/clickhouse_url.hpp"

#include <charconv>

namespace kurz::adapters::clickhouse {
namespace {

bool IsDatabaseChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsHostChar(char c) { return IsDatabaseChar(c) || c == '-' || c == '.'; }

}  // namespace

core::Result<ClickHouseUrl> ParseClickHouseUrl(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "clickhouse URL '" + std::string(text) + "': " + std::string(why) +
                          " (expected clickhouse://host:port/database)");
  };
  constexpr std::string_view kScheme = "clickhouse://";
  if (!text.starts_with(kScheme)) return bad("the scheme must be clickhouse://");
  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad("query parameters and fragments are not supported");
  }
  if (rest.find('@') != std::string_view::npos) return bad("credentials are not supported");

  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("missing /database");
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view database = rest.substr(slash + 1);

  ClickHouseUrl url;
  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.starts_with(':')) return bad("missing :port");
    port = after.substr(1);
    if (url.host.empty() ||
        url.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return bad("invalid IPv6 address");
    }
  } else {
    const auto colon = authority.find(':');
    if (colon == std::string_view::npos) return bad("missing :port");
    url.host = std::string(authority.substr(0, colon));
    port = authority.substr(colon + 1);
    if (url.host.empty()) return bad("missing host");
    for (const char c : url.host) {
      if (!IsHostChar(c)) return bad("invalid host '" + url.host + "'");
    }
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return bad("invalid port '" + std::string(port) + "'");
  }
  url.port = static_cast<std::uint16_t>(value);

  if (database.empty()) return bad("missing database name");
  for (const char c : database) {
    if (!IsDatabaseChar(c)) {
      return bad("invalid database name '" + std::string(database) + "' (only [A-Za-z0-9_])");
    }
  }
  url.database = std::string(database);
  return url;
}

std::string ToString(const ClickHouseUrl& url) {
  std::string text = "clickhouse://";
  text += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  text += ':';
  text += std::to_string(url.port);
  text += '/';
  text += url.database;
  return text;
}

}  // namespace kurz::adapters::clickhouse
