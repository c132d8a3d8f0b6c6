#pragma once

#include <array>
#include <cstdint>

#include "ports/geo_locator.hpp"

namespace kurz::adapters::geoip {

// The locator when the operator gives no --geoip file: every address is unknown ("ZZ").
class NoGeoLocator final : public ports::GeoLocator {
 public:
  ports::GeoInfo Locate(const std::array<std::uint8_t, 16>& /*ip*/) const override { return {}; }
  std::string_view CountryCode(const std::array<std::uint8_t, 16>& /*ip*/) const override {
    return {};
  }
};

}  // namespace kurz::adapters::geoip
