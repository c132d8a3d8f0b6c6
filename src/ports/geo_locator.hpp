#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kurz::ports {

// Where an address is, as far as the operator's database knows.
struct GeoInfo {
  std::string country = "ZZ";  // ISO 3166-1 alpha-2; "ZZ" when unknown
  std::string city;            // English name; empty when unknown
};

// Looks up the location of a client address. Addresses are 16 bytes in network order: IPv6, or
// IPv4-mapped IPv6 (::ffff:a.b.c.d) for IPv4 clients, as kurz stores them. Thread-safe.
class GeoLocator {
 public:
  virtual ~GeoLocator() = default;
  // Country ("ZZ" when unknown) and city (empty when unknown) of `ip`; never fails: a lookup
  // error or an address in no network gives the unknown values.
  virtual GeoInfo Locate(const std::array<std::uint8_t, 16>& ip) const = 0;
  // Only the country code of `ip` ("" when unknown), without allocating: for targeting rules on
  // the redirect path. The text stays valid while the locator lives.
  virtual std::string_view CountryCode(const std::array<std::uint8_t, 16>& ip) const = 0;
};

}  // namespace kurz::ports
