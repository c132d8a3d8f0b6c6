#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "ports/geo_locator.hpp"
#include "ports/user_agent_parser.hpp"

namespace kurz::fakes {

// A user-agent parser by rule of thumb, for tests of the pipeline's logic: "bot" anywhere makes
// a bot, "iPhone" a mobile Safari on iOS, "Android" a mobile Chrome on Android, anything else a
// desktop Firefox on Linux. Counts its calls.
class FakeUserAgentParser final : public ports::UserAgentParser {
 public:
  ports::UserAgentInfo Parse(std::string_view ua) override {
    calls.fetch_add(1, std::memory_order_relaxed);
    if (ua.find("bot") != std::string_view::npos) return {"Bot", "Other", "bot", true};
    if (ua.find("iPhone") != std::string_view::npos) {
      return {"Mobile Safari", "iOS", "mobile", false};
    }
    if (ua.find("Android") != std::string_view::npos) {
      return {"Chrome Mobile", "Android", "mobile", false};
    }
    return {"Firefox", "Linux", "desktop", false};
  }
  std::atomic<int> calls{0};
};

// Locates the addresses it was told about; every other one is unknown.
class FakeGeoLocator final : public ports::GeoLocator {
 public:
  void Add(const std::array<std::uint8_t, 16>& ip, std::string country, std::string city) {
    known_[ip] = ports::GeoInfo{std::move(country), std::move(city)};
  }
  ports::GeoInfo Locate(const std::array<std::uint8_t, 16>& ip) const override {
    auto it = known_.find(ip);
    return it == known_.end() ? ports::GeoInfo{} : it->second;
  }
  std::string_view CountryCode(const std::array<std::uint8_t, 16>& ip) const override {
    auto it = known_.find(ip);
    return it == known_.end() ? std::string_view() : std::string_view(it->second.country);
  }

 private:
  std::map<std::array<std::uint8_t, 16>, ports::GeoInfo> known_;
};

inline std::array<std::uint8_t, 16> MappedIpv4(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                               std::uint8_t d) {
  std::array<std::uint8_t, 16> ip{};
  ip[10] = 0xff;
  ip[11] = 0xff;
  ip[12] = a;
  ip[13] = b;
  ip[14] = c;
  ip[15] = d;
  return ip;
}

}  // namespace kurz::fakes
