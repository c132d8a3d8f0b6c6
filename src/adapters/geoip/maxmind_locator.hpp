#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "ports/geo_locator.hpp"

struct MMDB_s;  // libmaxminddb's database handle; its header stays out of ours

namespace kurz::adapters::geoip {

// GeoIP from any MaxMind-format (.mmdb) City or Country database: GeoLite2, GeoIP2, DB-IP lite.
// They share the keys read here: country.iso_code (else registered_country.iso_code) and
// city.names.en. The file is memory-mapped once; lookups only read it, so they are thread-safe.
class MaxMindLocator final : public ports::GeoLocator {
 public:
  // Maps `mmdb_path`. not_found when the file does not exist; invalid_argument when it cannot be
  // read or is not a MaxMind database. The detail names the file and libmaxminddb's reason.
  static core::Result<std::unique_ptr<MaxMindLocator>> Open(const std::string& mmdb_path);

  ~MaxMindLocator() override;
  MaxMindLocator(const MaxMindLocator&) = delete;
  MaxMindLocator& operator=(const MaxMindLocator&) = delete;

  // IPv4-mapped addresses are looked up as IPv4, so IPv4 data is found in both IPv4-only
  // databases and the IPv4 subtree (::/96) of IPv6 ones, whether or not ::ffff:0:0/96 is aliased.
  ports::GeoInfo Locate(const std::array<std::uint8_t, 16>& ip) const override;
  std::string_view CountryCode(const std::array<std::uint8_t, 16>& ip) const override;

 private:
  explicit MaxMindLocator(std::unique_ptr<MMDB_s> db);

  std::unique_ptr<MMDB_s> db_;
};

}  // namespace kurz::adapters::geoip
