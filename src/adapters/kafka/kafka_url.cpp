#include "adapters/kafka/kafka_url.hpp"

#include <charconv>

namespace kurz::adapters::kafka {
namespace {

constexpr std::string_view kScheme = "kafka://";
constexpr std::size_t kMaxTopicLength = 249;

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool IsTopicChar(char c) { return IsHostChar(c); }

// Checks one "host:port" (or "[v6]:port"); returns an empty string when fine, else the reason.
std::string CheckBroker(std::string_view broker) {
  if (broker.empty()) return "empty broker in the list";
  std::string_view host;
  std::string_view port;
  if (broker.starts_with('[')) {
    const auto close = broker.find(']');
    if (close == std::string_view::npos)
      return "unclosed '[' in broker '" + std::string(broker) + "'";
    host = broker.substr(1, close - 1);
    const std::string_view after = broker.substr(close + 1);
    if (!after.starts_with(':')) return "broker '" + std::string(broker) + "' needs ':port'";
    port = after.substr(1);
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return "invalid IPv6 address in broker '" + std::string(broker) + "'";
    }
  } else {
    const auto colon = broker.rfind(':');
    if (colon == std::string_view::npos)
      return "broker '" + std::string(broker) + "' needs ':port'";
    host = broker.substr(0, colon);
    port = broker.substr(colon + 1);
    if (host.empty()) return "missing host in broker '" + std::string(broker) + "'";
    for (const char c : host) {
      if (!IsHostChar(c)) return "invalid host in broker '" + std::string(broker) + "'";
    }
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return "invalid port '" + std::string(port) + "' in broker '" + std::string(broker) +
           "' (1..65535)";
  }
  return {};
}

}  // namespace

bool IsValidTopicName(std::string_view topic) {
  if (topic.empty() || topic.size() > kMaxTopicLength || topic == "." || topic == "..") {
    return false;
  }
  for (const char c : topic) {
    if (!IsTopicChar(c)) return false;
  }
  return true;
}

core::Result<KafkaUrl> ParseKafkaUrl(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "kafka URL '" + std::string(text) + "': " + std::string(why));
  };
  if (!text.starts_with(kScheme)) return bad("expected kafka://host:port[,host:port...]/topic");
  const std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#@") != std::string_view::npos) {
    return bad("credentials, query parameters and fragments are not supported");
  }
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("missing '/topic'");
  const std::string_view brokers = rest.substr(0, slash);
  const std::string_view topic = rest.substr(slash + 1);
  if (brokers.empty()) return bad("expected at least one host:port");

  std::size_t start = 0;
  while (true) {
    const auto comma = brokers.find(',', start);
    const std::string_view broker = brokers.substr(start, comma - start);
    if (std::string why = CheckBroker(broker); !why.empty()) return bad(why);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }

  if (topic.empty()) return bad("missing topic after '/'");
  if (topic.size() > kMaxTopicLength) return bad("topic longer than 249 characters");
  if (!IsValidTopicName(topic)) {
    return bad("topic '" + std::string(topic) +
               "' may only contain letters, digits, '.', '_' and '-' (and is not '.' or '..')");
  }
  return KafkaUrl{std::string(brokers), std::string(topic)};
}

}  // namespace kurz::adapters::kafka
