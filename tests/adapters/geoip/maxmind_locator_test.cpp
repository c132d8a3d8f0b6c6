#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/geoip/maxmind_locator.hpp"
#include "adapters/geoip/no_geo_locator.hpp"
#include "adapters/temp_dir.hpp"

namespace kurz::adapters::geoip {
namespace {

using Ip = std::array<std::uint8_t, 16>;

// An address as kurz stores it: IPv6, or IPv4-mapped IPv6 for dotted quads.
Ip Address(const std::string& text) {
  Ip ip{};
  if (inet_pton(AF_INET6, text.c_str(), ip.data()) == 1) return ip;
  if (inet_pton(AF_INET, text.c_str(), ip.data() + 12) != 1) ADD_FAILURE() << "bad IP " << text;
  ip[10] = ip[11] = 0xff;
  return ip;
}

std::string Db(const std::string& name) { return std::string(KURZ_TEST_MMDB_DIR) + "/" + name; }

std::unique_ptr<MaxMindLocator> OpenOrDie(const std::string& name) {
  auto opened = MaxMindLocator::Open(Db(name));
  if (!opened) {
    ADD_FAILURE() << opened.error().detail;
    return nullptr;
  }
  return std::move(*opened);
}

struct Expected {
  std::string ip;
  std::string country;
  std::string city;
};

void ExpectLocates(const ports::GeoLocator& locator, const std::vector<Expected>& cases) {
  for (const auto& c : cases) {
    const ports::GeoInfo info = locator.Locate(Address(c.ip));
    EXPECT_EQ(info.country, c.country) << c.ip;
    EXPECT_EQ(info.city, c.city) << c.ip;
  }
}

// GeoLite2-City layout: an IPv6 tree with ::ffff:0:0/96 aliased to the IPv4 subtree.
TEST(MaxMindLocator, CityDatabase) {
  auto locator = OpenOrDie("test-city.mmdb");
  ASSERT_NE(locator, nullptr);
  ExpectLocates(*locator, {
                              {"81.2.69.142", "GB", "London"},
                              {"89.160.20.5", "SE", "Linköping"},
                              {"2001:db8::1", "DE", "Berlin"},
                              {"2001:db8:ffff::1", "DE", "Berlin"},
                              {"203.0.113.9", "JP", ""},    // country only
                              {"198.51.100.7", "US", ""},   // registered_country only
                              {"2001:db9:1::5", "FR", ""},  // registered_country only, IPv6
                              {"8.8.8.8", "ZZ", ""},        // in no network
                              {"127.0.0.1", "ZZ", ""},      // loopback
                              {"::1", "ZZ", ""},            // IPv6 loopback
                              {"2001:db7::1", "ZZ", ""},    // next to a known network
                              {"::", "ZZ", ""},
                          });
}

// An IPv6 tree without the ::ffff:0:0/96 alias (as some writers produce): IPv4-mapped addresses
// only match because they are looked up as IPv4, in the ::/96 subtree. Country-only layout.
TEST(MaxMindLocator, CountryDatabaseWithoutIpv4MappedAlias) {
  auto locator = OpenOrDie("test-country.mmdb");
  ASSERT_NE(locator, nullptr);
  ExpectLocates(*locator, {
                              {"81.2.69.142", "GB", ""},
                              {"2001:db8::1", "DE", ""},
                              {"203.0.113.9", "JP", ""},
                              {"198.51.100.7", "US", ""},
                              {"8.8.8.8", "ZZ", ""},
                          });
}

// An IPv4-only tree: IPv4 clients match, IPv6 ones are unknown (libmaxminddb reports an error).
TEST(MaxMindLocator, Ipv4OnlyDatabase) {
  auto locator = OpenOrDie("test-city-v4.mmdb");
  ASSERT_NE(locator, nullptr);
  ExpectLocates(*locator, {
                              {"81.2.69.142", "GB", "London"},
                              {"203.0.113.9", "JP", ""},
                              {"2001:db8::1", "ZZ", ""},
                              {"127.0.0.1", "ZZ", ""},
                          });
}

TEST(MaxMindLocator, MissingFileFailsNamingIt) {
  const testing::TempDir dir;
  const std::string path = dir.File("absent.mmdb");
  auto opened = MaxMindLocator::Open(path);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(opened.error().detail.find(path), std::string::npos) << opened.error().detail;
  EXPECT_NE(opened.error().detail.find("No such file"), std::string::npos) << opened.error().detail;
}

TEST(MaxMindLocator, NonMmdbFileFails) {
  const testing::TempDir dir;
  const std::string path = dir.File("GeoIP.dat");
  std::ofstream(path) << "this is not a MaxMind DB, just some text that is long enough\n";
  auto opened = MaxMindLocator::Open(path);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(opened.error().detail.find(path), std::string::npos) << opened.error().detail;
  EXPECT_NE(opened.error().detail.find("metadata"), std::string::npos) << opened.error().detail;
}

TEST(MaxMindLocator, EmptyFileFails) {
  const testing::TempDir dir;
  const std::string path = dir.File("empty.mmdb");
  std::ofstream{path};
  auto opened = MaxMindLocator::Open(path);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().detail.find(path), std::string::npos) << opened.error().detail;
}

TEST(MaxMindLocator, ConcurrentLookupsAgree) {
  auto locator = OpenOrDie("test-city.mmdb");
  ASSERT_NE(locator, nullptr);
  const std::vector<Expected> cases = {
      {"81.2.69.142", "GB", "London"}, {"2001:db8::1", "DE", "Berlin"}, {"203.0.113.9", "JP", ""},
      {"198.51.100.7", "US", ""},      {"8.8.8.8", "ZZ", ""},
  };
  std::vector<Ip> ips;
  for (const auto& c : cases) ips.push_back(Address(c.ip));
  std::array<int, 4> mismatches{};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5000; ++round) {
        const std::size_t i = (round + t) % cases.size();
        const ports::GeoInfo info = locator->Locate(ips[i]);
        if (info.country != cases[i].country || info.city != cases[i].city) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, (std::array<int, 4>{}));
}

TEST(NoGeoLocator, EverythingIsUnknown) {
  const NoGeoLocator locator;
  ExpectLocates(locator, {{"81.2.69.142", "ZZ", ""}, {"2001:db8::1", "ZZ", ""}});
}

}  // namespace
}  // namespace kurz::adapters::geoip
