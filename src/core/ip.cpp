#include "core/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

namespace kurz::core {

namespace {

// The longest textual IPv6 address: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
constexpr std::size_t kMaxIpText = 45;

bool IsIpChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
         c == ':';
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTrusted(const IpAddress& ip, std::span<const Cidr> trusted) {
  for (const Cidr& network : trusted) {
    if (Contains(network, ip)) return true;
  }
  return false;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

// One X-Forwarded-For element: an address, or one with a port as some proxies write them
// (Azure Application Gateway, IIS ARR): "203.0.113.7:51234", "[2001:db8::1]:443", "[2001:db8::1]".
std::optional<IpAddress> ParseHop(std::string_view item) {
  if (item.starts_with('[')) {
    const auto close = item.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view after = item.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || !AllDigits(after.substr(1)))) {
      return std::nullopt;
    }
    return ParseIp(item.substr(1, close - 1));
  }
  const auto colon = item.find(':');
  if (colon != std::string_view::npos && item.find(':', colon + 1) == std::string_view::npos &&
      item.find('.') < colon && AllDigits(item.substr(colon + 1))) {
    return ParseIp(item.substr(0, colon));  // IPv4 with a port
  }
  return ParseIp(item);
}

}  // namespace

std::optional<IpAddress> ParseIp(std::string_view text) {
  if (text.empty() || text.size() > kMaxIpText) return std::nullopt;
  bool colon = false;
  for (char c : text) {
    if (!IsIpChar(c)) return std::nullopt;  // also keeps NULs, '%' zones and '[' ports out
    colon = colon || c == ':';
  }
  // inet_pton wants a NUL-terminated string: copy into a stack buffer, never the heap.
  char buffer[kMaxIpText + 1];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress out{};
  if (colon) {
    if (inet_pton(AF_INET6, buffer, out.data()) != 1) return std::nullopt;
    return out;
  }
  std::uint8_t v4[4];
  if (inet_pton(AF_INET, buffer, v4) != 1) return std::nullopt;
  out[10] = 0xff;
  out[11] = 0xff;
  std::memcpy(out.data() + 12, v4, 4);
  return out;
}

Result<Cidr> ParseCidr(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' " + std::string(why));
  };
  const auto slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  auto ip = ParseIp(address);
  if (!ip) {
    return bad("is not an IP address or network such as 10.0.0.0/8, 192.168.1.1 or 2001:db8::/32");
  }
  const bool v4 = address.find(':') == std::string_view::npos;
  const int max_bits = v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view prefix = text.substr(slash + 1);
    const auto [ptr, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    if (prefix.empty() || prefix.size() > 3 || ec != std::errc() ||
        ptr != prefix.data() + prefix.size() || bits < 0 || bits > max_bits) {
      return bad(v4 ? "has a bad prefix length: an IPv4 network's is 0 to 32"
                    : "has a bad prefix length: an IPv6 network's is 0 to 128");
    }
  }
  Cidr network;
  network.prefix_bits = v4 ? bits + 96 : bits;
  // Keep only the prefix, so that equal networks compare equal.
  for (int i = 0; i < 16; ++i) {
    const int keep = std::min(8, std::max(0, network.prefix_bits - 8 * i));
    const auto mask = static_cast<std::uint8_t>(0xFF00u >> keep);
    network.bytes[static_cast<std::size_t>(i)] = (*ip)[static_cast<std::size_t>(i)] & mask;
  }
  return network;
}

Result<std::vector<Cidr>> ParseCidrList(std::string_view text) {
  std::vector<Cidr> out;
  if (TrimBlanks(text).empty()) return out;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = TrimBlanks(text.substr(0, comma));
    if (item.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "empty entry in the list of networks (write them as 10.0.0.0/8,::1)");
    }
    auto network = ParseCidr(item);
    if (!network) return std::unexpected(network.error());
    out.push_back(*network);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool Contains(const Cidr& network, const IpAddress& ip) {
  const int bits = std::min(std::max(network.prefix_bits, 0), 128);
  const auto whole = static_cast<std::size_t>(bits / 8);
  if (std::memcmp(network.bytes.data(), ip.data(), whole) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF00u >> rest);
  return (network.bytes[whole] & mask) == (ip[whole] & mask);
}

IpAddress ClientIp(const IpAddress& peer, std::string_view x_forwarded_for,
                   std::span<const Cidr> trusted) {
  if (trusted.empty() || !IsTrusted(peer, trusted)) return peer;
  IpAddress last_trusted = peer;
  std::string_view rest = x_forwarded_for;
  while (true) {
    const auto comma = rest.rfind(',');
    const std::string_view item =
        TrimBlanks(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    const auto hop = ParseHop(item);
    if (!hop) return last_trusted;  // garbage (or nothing): nothing left of it is believable
    if (!IsTrusted(*hop, trusted)) return *hop;
    last_trusted = *hop;
    if (comma == std::string_view::npos) return last_trusted;  // every hop trusted
    rest = rest.substr(0, comma);
  }
}

}  // namespace kurz::core
