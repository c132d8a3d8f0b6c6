#include "adapters/redis/redis_url.hpp"

#include <charconv>

namespace kurz::adapters::redis {
namespace {

core::Result<Endpoint> ParseEndpoint(std::string_view text, std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "redis URL '" + RedactRedisUrl(url) + "': " + std::string(why));
  };
  Endpoint endpoint;
  std::string_view port;
  if (text.starts_with('[')) {  // [IPv6]:port
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in a host");
    endpoint.host = std::string(text.substr(1, close - 1));
    const std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("expected ':port' after ']'");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    const auto colon = text.rfind(':');
    endpoint.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
  }
  if (endpoint.host.empty()) return bad("missing host");
  if (endpoint.host.find_first_of("/?#@ ") != std::string::npos) return bad("invalid host");
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("invalid port '" + std::string(port) + "'");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  return endpoint;
}

}  // namespace

std::string Endpoint::ToString() const {
  std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  text += ':';
  text += std::to_string(port);
  return text;
}

core::Result<RedisOptions> ParseRedisUrl(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "redis URL '" + RedactRedisUrl(url) + "': " + std::string(why));
  };
  RedisOptions options;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("redis-cluster://")) {
    options.cluster = true;
    rest = url.substr(16);
  } else {
    return bad("expected redis://host:port[/db] or redis-cluster://host:port,host:port,...");
  }
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad("query parameters are not supported");

  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      options.password = std::string(userinfo);  // redis://secret@host: the password alone
    } else {
      options.username = std::string(userinfo.substr(0, colon));
      options.password = std::string(userinfo.substr(colon + 1));
    }
  }

  std::string_view hosts = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    hosts = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      const auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), options.db);
      if (ec != std::errc() || end != db.data() + db.size() || options.db < 0) {
        return bad("invalid database number '" + std::string(db) + "'");
      }
    }
  }
  if (options.cluster && options.db != 0) return bad("a cluster has only database 0");
  if (hosts.empty()) return bad("missing host");

  while (true) {
    const auto comma = hosts.find(',');
    auto endpoint = ParseEndpoint(hosts.substr(0, comma), url);
    if (!endpoint) return std::unexpected(endpoint.error());
    options.nodes.push_back(std::move(*endpoint));
    if (comma == std::string_view::npos) break;
    hosts = hosts.substr(comma + 1);
  }
  if (!options.cluster && options.nodes.size() > 1) {
    return bad("several hosts need redis-cluster://");
  }
  return options;
}

std::string RedactRedisUrl(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::size_t start = scheme_end + 3;
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  const std::string_view userinfo = url.substr(start, at - start);
  const auto colon = userinfo.find(':');
  std::string redacted(url.substr(0, start));
  if (colon != std::string_view::npos) redacted += userinfo.substr(0, colon + 1);
  redacted += "***";
  redacted += url.substr(at);
  return redacted;
}

}  // namespace kurz::adapters::redis
