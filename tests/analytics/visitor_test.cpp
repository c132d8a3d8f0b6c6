#include "analytics/visitor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "analytics/fakes.hpp"

namespace kurz::analytics {
namespace {

const IpBytes kIp = fakes::MappedIpv4(203, 0, 113, 7);
const IpBytes kOtherIp = fakes::MappedIpv4(198, 51, 100, 23);
constexpr core::Date kDay{20'000};

TEST(VisitorHasher, IdIs32LowercaseHex) {
  VisitorHasher hasher("secret");
  const std::string h = VisitorHasher::Hex(hasher.Id(kIp, kDay));
  ASSERT_EQ(h.size(), 32u);
  EXPECT_TRUE(std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << h;
  EXPECT_EQ(h.find("cb007107"), std::string::npos) << "the IPv4 bytes in hex";
}

TEST(VisitorHasher, SameIpAndDayGivesTheSameIdEvenAfterTheMemoForgets) {
  VisitorHasher hasher("secret");
  const VisitorId first = hasher.Id(kIp, kDay);
  for (std::uint32_t i = 0; i < 70'000; ++i) {  // beyond the memo's size: it is cleared
    hasher.Id(fakes::MappedIpv4(10, static_cast<std::uint8_t>(i >> 16),
                                static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)),
              kDay);
  }
  EXPECT_EQ(hasher.Id(kIp, kDay), first);
  EXPECT_EQ(VisitorHasher("secret").Id(kIp, kDay), first) << "another instance, same secret";
}

TEST(VisitorHasher, AnotherDayIpOrSecretGivesAnotherId) {
  VisitorHasher hasher("secret");
  VisitorHasher other("another secret");
  EXPECT_NE(hasher.Id(kIp, kDay), hasher.Id(kIp, core::Date{kDay.days + 1}));
  EXPECT_NE(hasher.Id(kIp, kDay), hasher.Id(kOtherIp, kDay));
  EXPECT_NE(hasher.Id(kIp, kDay), other.Id(kIp, kDay));
}

}  // namespace
}  // namespace kurz::analytics
