#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace kurz::core {

// An IP address as 16 bytes: IPv6, or IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so that one
// type serves both families everywhere (click events, rate-limiter keys, proxy lists).
using IpAddress = std::array<std::uint8_t, 16>;

// "203.0.113.7" (as ::ffff:203.0.113.7), "2001:db8::1", "::ffff:203.0.113.7". Nothing else: no
// surrounding spaces (the caller trims), ports, brackets, zones ("fe80::1%eth0"), or IPv4
// shorthands ("10.1", leading zeros). Does not allocate.
std::optional<IpAddress> ParseIp(std::string_view text);

// A network: the addresses whose first `prefix_bits` bits equal those of `bytes` (bits after the
// prefix are zero). IPv4 networks are kept as their IPv4-mapped range (prefix + 96).
struct Cidr {
  IpAddress bytes{};
  int prefix_bits = 128;  // 0..128
  bool operator==(const Cidr&) const = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (= /32 for IPv4, /128 for IPv6). Host bits
// after the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8). invalid_argument, saying what is
// wrong, for anything else (a prefix beyond 32 for IPv4 or 128 for IPv6, spaces, garbage).
Result<Cidr> ParseCidr(std::string_view text);

// Comma-separated networks, spaces around items tolerated: "10.0.0.0/8, 192.168.1.1,::1/128".
// An empty or all-blank text is the empty list; an empty item ("a,,b", "a,") is invalid_argument,
// as is any item ParseCidr refuses.
Result<std::vector<Cidr>> ParseCidrList(std::string_view text);

bool Contains(const Cidr& network, const IpAddress& ip);

// The address of the client behind `peer`, the connection's remote end. Without trusted proxies,
// or when the peer is not one of them, that is the peer itself (so a client cannot forge its
// address). Otherwise X-Forwarded-For (comma-separated; repeated headers joined by ", ") is read
// from the right, each hop appended by the proxy it reached: trusted addresses are skipped and
// the first untrusted one is the client. A hop may carry a port as some proxies write it
// ("203.0.113.7:51234", "[2001:db8::1]:443"; the port is ignored). An element that is not an IP
// address ends the walk at the last trusted hop seen (its right neighbour, or the peer), since
// nothing left of it can be trusted; when every element is trusted, the left-most is the client.
// Does not allocate: it runs on the redirect path.
IpAddress ClientIp(const IpAddress& peer, std::string_view x_forwarded_for,
                   std::span<const Cidr> trusted);

}  // namespace kurz::core
