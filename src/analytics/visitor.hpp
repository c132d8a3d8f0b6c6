#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "core/time.hpp"

namespace kurz::analytics {

using IpBytes = std::array<std::uint8_t, 16>;
using VisitorId = std::array<std::uint8_t, 16>;

// Cookie-less visitor ids: HMAC-SHA256 of (day, IP) keyed with the operator's secret, cut to
// 128 bits. The day acts as a salt rotated daily: the same IP gets the same id all day on every
// link (so a day's unique visitors can be counted) and an unrelated one the next day, and without
// the secret an id cannot be tied to an IP by trying all addresses. The IP itself is never kept.
//
// Hashing costs about a microsecond; recent (IP, day) pairs are remembered, so a returning
// visitor costs a lookup. Not thread-safe (one per pipeline thread).
class VisitorHasher {
 public:
  explicit VisitorHasher(std::string secret);

  VisitorId Id(const IpBytes& ip, core::Date day);
  // 32 lowercase hex characters of Id: how visitors are stored.
  static std::string Hex(const VisitorId& id);

 private:
  struct Key {
    IpBytes ip;
    std::int32_t day;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };

  std::string secret_;
  std::unordered_map<Key, VisitorId, KeyHash> memo_;
};

}  // namespace kurz::analytics
