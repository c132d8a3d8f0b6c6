#include "core/ip.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace kurz::core {
namespace {

IpAddress V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

// The address of a text the test knows to be valid.
IpAddress Ip(std::string_view text) {
  auto ip = ParseIp(text);
  EXPECT_TRUE(ip) << text;
  return ip.value_or(IpAddress{});
}

std::vector<Cidr> Networks(std::string_view text) {
  auto list = ParseCidrList(text);
  EXPECT_TRUE(list) << text << ": " << (list ? "" : list.error().detail);
  return list.value_or(std::vector<Cidr>{});
}

// ---- ParseIp ---------------------------------------------------------------------------------

TEST(ParseIpTest, Ipv4BecomesIpv4MappedIpv6) {
  EXPECT_EQ(ParseIp("203.0.113.7"), V4(203, 0, 113, 7));
  EXPECT_EQ(ParseIp("0.0.0.0"), V4(0, 0, 0, 0));
  EXPECT_EQ(ParseIp("255.255.255.255"), V4(255, 255, 255, 255));
  // The mapped form written as IPv6 is the same address.
  EXPECT_EQ(ParseIp("::ffff:203.0.113.7"), V4(203, 0, 113, 7));
  EXPECT_EQ(ParseIp("::FFFF:cb00:7107"), V4(203, 0, 113, 7));
}

TEST(ParseIpTest, Ipv6FullAndCompressed) {
  const IpAddress loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(ParseIp("::1"), loopback);
  EXPECT_EQ(ParseIp("0:0:0:0:0:0:0:1"), loopback);
  EXPECT_EQ(ParseIp("::"), IpAddress{});
  const IpAddress doc{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
  EXPECT_EQ(ParseIp("2001:db8::42"), doc);
  EXPECT_EQ(ParseIp("2001:DB8:0:0:0:0:0:42"), doc);
  EXPECT_EQ(ParseIp("2001:0db8:0000:0000:0000:0000:0000:0042"), doc);
  const IpAddress tail{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(ParseIp("2001:db8:1::"), tail);
  EXPECT_TRUE(ParseIp("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"));  // 45 characters
}

TEST(ParseIpTest, RejectsEverythingElse) {
  for (std::string_view bad : {
           "",
           " 1.2.3.4",
           "1.2.3.4 ",
           "1.2.3.4:80",
           "[2001:db8::1]",
           "[2001:db8::1]:443",
           "fe80::1%eth0",
           "fe80::1%1",
           "1.2.3",
           "10.1",
           "1.2.3.4.5",
           "256.1.1.1",
           "01.2.3.4",
           "1.2.3.4/32",
           "::1/128",
           "2001:db8:::1",
           "2001:db8::1::2",
           "1:2:3:4:5:6:7:8:9",
           "12345::1",
           "g::1",
           "unknown",
           "localhost",
           "-",
           "1.2.3.4,5.6.7.8",
           "0000:0000:0000:0000:0000:0000:0000:0000:0000",  // too long for any address
       }) {
    EXPECT_FALSE(ParseIp(bad)) << "'" << bad << "'";
  }
  // An embedded NUL must not cut the text short.
  EXPECT_FALSE(ParseIp(std::string_view("1.2.3.4\0garbage", 15)));
  EXPECT_FALSE(ParseIp(std::string_view("1.2.3.4\0", 8)));
}

// ---- ParseCidr / Contains --------------------------------------------------------------------

TEST(CidrTest, Ipv4NetworksAreTheirMappedRange) {
  auto net = ParseCidr("10.0.0.0/8");
  ASSERT_TRUE(net) << net.error().detail;
  EXPECT_EQ(net->prefix_bits, 104);
  EXPECT_EQ(net->bytes, V4(10, 0, 0, 0));
  EXPECT_TRUE(Contains(*net, V4(10, 0, 0, 0)));
  EXPECT_TRUE(Contains(*net, V4(10, 255, 255, 255)));
  EXPECT_FALSE(Contains(*net, V4(11, 0, 0, 0)));
  EXPECT_FALSE(Contains(*net, V4(9, 255, 255, 255)));
  // The same bits as plain IPv6 (not mapped) are another address.
  EXPECT_FALSE(Contains(*net, IpAddress{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1}));

  auto odd = ParseCidr("172.16.0.0/12");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(Contains(*odd, V4(172, 16, 0, 1)));
  EXPECT_TRUE(Contains(*odd, V4(172, 31, 255, 255)));
  EXPECT_FALSE(Contains(*odd, V4(172, 32, 0, 0)));
  EXPECT_FALSE(Contains(*odd, V4(172, 15, 255, 255)));
}

TEST(CidrTest, BareAddressesAreSingleHosts) {
  auto v4 = ParseCidr("192.168.1.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->prefix_bits, 128);
  EXPECT_TRUE(Contains(*v4, V4(192, 168, 1, 1)));
  EXPECT_FALSE(Contains(*v4, V4(192, 168, 1, 2)));
  EXPECT_EQ(*v4, *ParseCidr("192.168.1.1/32"));

  auto v6 = ParseCidr("::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->prefix_bits, 128);
  EXPECT_TRUE(Contains(*v6, Ip("::1")));
  EXPECT_FALSE(Contains(*v6, Ip("::2")));
  EXPECT_EQ(*v6, *ParseCidr("::1/128"));
}

TEST(CidrTest, Ipv6Networks) {
  auto net = ParseCidr("2001:db8::/32");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->prefix_bits, 32);
  EXPECT_TRUE(Contains(*net, Ip("2001:db8::1")));
  EXPECT_TRUE(Contains(*net, Ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(Contains(*net, Ip("2001:db9::1")));

  auto odd = ParseCidr("fd00::/7");  // unique local addresses: fc00::/7
  ASSERT_TRUE(odd);
  EXPECT_TRUE(Contains(*odd, Ip("fc00::1")));
  EXPECT_TRUE(Contains(*odd, Ip("fdff::1")));
  EXPECT_FALSE(Contains(*odd, Ip("fe00::1")));

  // Written in IPv6, the mapped range holds every IPv4 address.
  auto mapped = ParseCidr("::ffff:0:0/96");
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(Contains(*mapped, V4(8, 8, 8, 8)));
  EXPECT_FALSE(Contains(*mapped, Ip("::1")));
}

TEST(CidrTest, ZeroPrefixHoldsEverything) {
  auto all6 = ParseCidr("::/0");
  ASSERT_TRUE(all6);
  EXPECT_TRUE(Contains(*all6, Ip("2001:db8::1")));
  EXPECT_TRUE(Contains(*all6, V4(1, 2, 3, 4)));
  auto all4 = ParseCidr("0.0.0.0/0");
  ASSERT_TRUE(all4);
  EXPECT_EQ(all4->prefix_bits, 96);
  EXPECT_TRUE(Contains(*all4, V4(1, 2, 3, 4)));
  EXPECT_FALSE(Contains(*all4, Ip("2001:db8::1")));
}

TEST(CidrTest, HostBitsAreDropped) {
  auto net = ParseCidr("10.1.2.3/8");
  ASSERT_TRUE(net);
  EXPECT_EQ(*net, *ParseCidr("10.0.0.0/8"));
  auto net6 = ParseCidr("2001:db8::1/32");
  ASSERT_TRUE(net6);
  EXPECT_EQ(*net6, *ParseCidr("2001:db8::/32"));
}

TEST(CidrTest, BadInputIsInvalidArgumentWithAReason) {
  for (std::string_view bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8",
        "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8 ", "::1/129", "::1/1000", "10.0.0.0/x",
        "10.0.0/8", "fe80::%eth0/64", "garbage", "10.0.0.0 /8"}) {
    auto net = ParseCidr(bad);
    ASSERT_FALSE(net) << "'" << bad << "'";
    EXPECT_EQ(net.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(net.error().detail.find(std::string(bad)), std::string::npos)
        << "the message names the input: " << net.error().detail;
  }
  EXPECT_NE(ParseCidr("10.0.0.0/33").error().detail.find("0 to 32"), std::string::npos);
  EXPECT_NE(ParseCidr("::/129").error().detail.find("0 to 128"), std::string::npos);
}

// ---- ParseCidrList ---------------------------------------------------------------------------

TEST(CidrListTest, CommaSeparatedWithSpaces) {
  auto list = ParseCidrList("10.0.0.0/8, 192.168.1.1,::1/128 ,  2001:db8::/32");
  ASSERT_TRUE(list) << list.error().detail;
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[0], *ParseCidr("10.0.0.0/8"));
  EXPECT_EQ((*list)[1], *ParseCidr("192.168.1.1/32"));
  EXPECT_EQ((*list)[2], *ParseCidr("::1"));
  EXPECT_EQ((*list)[3], *ParseCidr("2001:db8::/32"));
  EXPECT_EQ(Networks("127.0.0.1").size(), 1u);
}

TEST(CidrListTest, EmptyTextIsTheEmptyList) {
  EXPECT_TRUE(Networks("").empty());
  EXPECT_TRUE(Networks("   ").empty());
}

TEST(CidrListTest, EmptyOrBadItemsAreRefused) {
  for (std::string_view bad :
       {",", "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/8,,::1", "10.0.0.0/8, ,::1", "10.0.0.0/8;::1",
        "10.0.0.0/8 ::1", "10.0.0.0/33,::1"}) {
    auto list = ParseCidrList(bad);
    ASSERT_FALSE(list) << "'" << bad << "'";
    EXPECT_EQ(list.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_FALSE(list.error().detail.empty());
  }
}

// ---- ClientIp --------------------------------------------------------------------------------

class ClientIpTest : public ::testing::Test {
 protected:
  // A load balancer at 10.0.0.5 and an internal proxy tier in 192.168.0.0/16 and fd00::/8.
  const std::vector<Cidr> trusted_ = Networks("10.0.0.0/8, 192.168.0.0/16, fd00::/8");
  const IpAddress proxy_ = V4(10, 0, 0, 5);
};

TEST_F(ClientIpTest, WithoutTrustedProxiesThePeerIsTheClient) {
  const IpAddress peer = V4(203, 0, 113, 7);
  EXPECT_EQ(ClientIp(peer, "198.51.100.1", {}), peer);
  EXPECT_EQ(ClientIp(peer, "", {}), peer);
}

TEST_F(ClientIpTest, AnUntrustedPeerCannotForgeItsAddress) {
  const IpAddress peer = V4(203, 0, 113, 7);
  EXPECT_EQ(ClientIp(peer, "198.51.100.1", trusted_), peer);
  EXPECT_EQ(ClientIp(peer, "10.0.0.1", trusted_), peer);
}

TEST_F(ClientIpTest, TrustedPeerOneHop) {
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1", trusted_), V4(198, 51, 100, 1));
}

TEST_F(ClientIpTest, RightMostUntrustedHopWins) {
  // The client put a made-up address first; our proxies appended the real one and themselves.
  EXPECT_EQ(ClientIp(proxy_, "1.1.1.1, 198.51.100.1, 192.168.3.4", trusted_), V4(198, 51, 100, 1));
  EXPECT_EQ(ClientIp(proxy_, "1.1.1.1,198.51.100.1,192.168.3.4,10.9.9.9", trusted_),
            V4(198, 51, 100, 1));
}

TEST_F(ClientIpTest, RepeatedHeadersJoinedWithCommaSpace) {
  // The server joins "X-Forwarded-For: a" and "X-Forwarded-For: b, c" into "a, b, c".
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1, 192.168.0.1, 10.1.1.1", trusted_), V4(198, 51, 100, 1));
}

TEST_F(ClientIpTest, SpacesAndTabsAroundElements) {
  EXPECT_EQ(ClientIp(proxy_, "  198.51.100.1 ,\t192.168.0.1\t ", trusted_), V4(198, 51, 100, 1));
  EXPECT_EQ(ClientIp(proxy_, " 198.51.100.1 ", trusted_), V4(198, 51, 100, 1));
}

TEST_F(ClientIpTest, EveryHopTrustedGivesTheLeftMost) {
  EXPECT_EQ(ClientIp(proxy_, "192.168.7.7, 10.2.2.2", trusted_), V4(192, 168, 7, 7));
  EXPECT_EQ(ClientIp(proxy_, "10.3.3.3", trusted_), V4(10, 3, 3, 3));
}

TEST_F(ClientIpTest, EmptyHeaderGivesThePeer) {
  EXPECT_EQ(ClientIp(proxy_, "", trusted_), proxy_);
  EXPECT_EQ(ClientIp(proxy_, "   ", trusted_), proxy_);
}

TEST_F(ClientIpTest, GarbageStopsAtTheLastTrustedHop) {
  // Garbage right at the end: the peer is the last trusted hop.
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1, unknown", trusted_), proxy_);
  // Garbage further left: its right neighbour (trusted) is used, never what is left of it.
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1, garbage, 192.168.0.9", trusted_), V4(192, 168, 0, 9));
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1, 1.2.3.4:x, 10.7.7.7, 192.168.0.9", trusted_),
            V4(10, 7, 7, 7));
  // Empty elements are not addresses either.
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1, , 192.168.0.9", trusted_), V4(192, 168, 0, 9));
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1,", trusted_), proxy_);
  EXPECT_EQ(ClientIp(proxy_, ",198.51.100.1", trusted_), V4(198, 51, 100, 1));
  // Zones, unclosed brackets and bad ports are garbage.
  EXPECT_EQ(ClientIp(proxy_, "fe80::1%eth0", trusted_), proxy_);
  EXPECT_EQ(ClientIp(proxy_, "[2001:db8::1", trusted_), proxy_);
  EXPECT_EQ(ClientIp(proxy_, "[2001:db8::1]443", trusted_), proxy_);
  EXPECT_EQ(ClientIp(proxy_, "[2001:db8::1]:", trusted_), proxy_);
  EXPECT_EQ(ClientIp(proxy_, "1.2.3.4:123456", trusted_), proxy_);
  EXPECT_EQ(ClientIp(proxy_, "1.2.3.4:", trusted_), proxy_);
}

TEST_F(ClientIpTest, HopsWithPortsAsSomeProxiesWriteThem) {
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1:51234", trusted_), V4(198, 51, 100, 1));
  EXPECT_EQ(ClientIp(proxy_, "[2001:db8::1]:443", trusted_), Ip("2001:db8::1"));
  EXPECT_EQ(ClientIp(proxy_, "[2001:db8::1]", trusted_), Ip("2001:db8::1"));
  EXPECT_EQ(ClientIp(proxy_, "198.51.100.1, 192.168.0.9:8080", trusted_), V4(198, 51, 100, 1));
  // A bare IPv6 address is never read as address:port.
  EXPECT_EQ(ClientIp(proxy_, "2001:db8::1:443", trusted_), Ip("2001:db8::1:443"));
}

TEST_F(ClientIpTest, Ipv6Hops) {
  const IpAddress peer6 = Ip("fd00::10");
  EXPECT_EQ(ClientIp(peer6, "2001:db8::42", trusted_), Ip("2001:db8::42"));
  EXPECT_EQ(ClientIp(peer6, "2001:db8::42, fd00::1, 10.0.0.1", trusted_), Ip("2001:db8::42"));
  EXPECT_EQ(ClientIp(proxy_, "2001:db8::42,fd12::1", trusted_), Ip("2001:db8::42"));
  EXPECT_EQ(ClientIp(Ip("2001:db8::1"), "198.51.100.1", trusted_), Ip("2001:db8::1"));
}

TEST_F(ClientIpTest, MappedAddressesMatchIpv4Networks) {
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; either spelling of a hop works.
  EXPECT_EQ(ClientIp(Ip("::ffff:10.0.0.5"), "::ffff:198.51.100.1, ::ffff:192.168.1.1", trusted_),
            V4(198, 51, 100, 1));
}

}  // namespace
}  // namespace kurz::core
