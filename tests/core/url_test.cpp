#include "core/url.hpp"

#include <string>

#include <gtest/gtest.h>

namespace kurz::core {
namespace {

constexpr std::string_view kSelf = "sho.rt";

ValidatedUrl Accept(std::string_view url, std::string_view self = kSelf) {
  Result<ValidatedUrl> r = ValidateUrl(url, self);
  EXPECT_TRUE(r.has_value()) << url << ": " << (r ? "" : r.error().detail);
  return r.value_or(ValidatedUrl{});
}

void Reject(std::string_view url, std::string_view message, std::string_view self = kSelf) {
  const Result<ValidatedUrl> r = ValidateUrl(url, self);
  ASSERT_FALSE(r.has_value()) << url << " was accepted as " << r->location;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidUrl) << url;
  EXPECT_EQ(r.error().detail, message) << url;
}

constexpr std::string_view kBadScheme = "url must use http or https";
constexpr std::string_view kNotAbsolute = "url must be absolute and start with http:// or https://";
constexpr std::string_view kNoHost = "url must have a host";
constexpr std::string_view kBadHost = "url has an invalid host";
constexpr std::string_view kBadPort = "url has an invalid port (must be 1 to 65535)";
constexpr std::string_view kUserInfo = "url must not contain user information";
constexpr std::string_view kSpaces = "url must not contain spaces or control characters";
constexpr std::string_view kUtf8 = "url is not valid UTF-8";
constexpr std::string_view kTooLong = "url is longer than 2048 bytes";
constexpr std::string_view kSelfLoop = "url points at this service";

TEST(ValidateUrlTest, AcceptsOrdinaryUrlsAndKeepsThemAsGiven) {
  const ValidatedUrl v = Accept("https://example.com/some/long/path?q=1");
  EXPECT_EQ(v.url, "https://example.com/some/long/path?q=1");
  EXPECT_EQ(v.location, "https://example.com/some/long/path?q=1");
  Accept("http://example.com");
  Accept("http://example.com/");
  Accept("https://example.com?q=1");
  Accept("https://example.com#top");
  Accept("https://a.b.c.example.co.uk/x/y;p=1?a=b&c=d#frag");
  Accept("https://localhost/");
  Accept("https://my-host.example/");
  Accept("https://my_host.example/");
  Accept("https://example.com./");  // fully qualified, trailing dot
  Accept("https://example.com/%E2%82%AC?x=%20");
  Accept("https://example.com/a%zz");  // a lone '%' is the target's business
}

TEST(ValidateUrlTest, SchemeIsHttpOrHttpsInAnyCase) {
  EXPECT_EQ(Accept("HTTPS://Example.COM/Path").url, "HTTPS://Example.COM/Path");
  EXPECT_EQ(Accept("HTTPS://Example.COM/Path").location, "https://example.com/Path");
  Accept("Http://example.com/");
  Reject("ftp://example.com/file", kBadScheme);
  Reject("javascript:alert(1)", kBadScheme);
  Reject("JavaScript://example.com/%0Aalert(1)", kBadScheme);
  Reject("data:text/html,<script>alert(1)</script>", kBadScheme);
  Reject("mailto:someone@example.com", kBadScheme);
  Reject("file:///etc/passwd", kBadScheme);
  Reject("httpx://example.com/", kBadScheme);
}

TEST(ValidateUrlTest, MustBeAbsolute) {
  Reject("", kNotAbsolute);
  Reject("example.com/path", kNotAbsolute);
  Reject("/relative/path", kNotAbsolute);
  Reject("//example.com/path", kNotAbsolute);
  Reject(":8080", kNotAbsolute);
  Reject("1http://example.com", kNotAbsolute);
}

TEST(ValidateUrlTest, MustHaveAHost) {
  Reject("http://", kNoHost);
  Reject("https://", kNoHost);
  Reject("http:///x", kNoHost);
  Reject("http://?q=1", kNoHost);
  Reject("http://#f", kNoHost);
  Reject("http://:8080/", kNoHost);
  Reject("http:example.com", kNoHost);
  Reject("http:/example.com", kNoHost);
}

TEST(ValidateUrlTest, RefusesUserInformation) {
  Reject("https://user:pass@example.com/", kUserInfo);
  Reject("https://user@example.com/", kUserInfo);
  Reject("https://@example.com/", kUserInfo);
  Reject("https://trusted.example@evil.example/", kUserInfo);
  Reject("https://evil.example\\@trusted.example/", kUserInfo);
  // An '@' after the authority is ordinary data.
  Accept("https://example.com/@user");
  Accept("https://example.com/?mail=a@b.c");
  Accept("https://example.com/#@x");
}

TEST(ValidateUrlTest, RefusesSpacesAndControlCharactersAnywhere) {
  Reject("https://example.com/a b", kSpaces);
  Reject("https://example.com/?q=a b", kSpaces);
  Reject(" https://example.com/", kSpaces);
  Reject("https://example.com/ ", kSpaces);
  Reject("https://exa mple.com/", kSpaces);
  Reject("https://example.com/\tx", kSpaces);
  Reject("https://example.com/\r\nSet-Cookie:x=1", kSpaces);
  Reject("https://example.com/\n", kSpaces);
  Reject(std::string_view("https://example.com/\0x", 22), kSpaces);
  Reject("https://example.com/\x1F", kSpaces);
  Reject("https://example.com/\x7F", kSpaces);
  Reject("https://example.com/\x01", kSpaces);
}

TEST(ValidateUrlTest, LengthLimitIs2048Bytes) {
  const std::string prefix = "https://example.com/";
  const std::string exactly = prefix + std::string(kMaxUrlLength - prefix.size(), 'a');
  ASSERT_EQ(exactly.size(), 2048u);
  Accept(exactly);
  Reject(exactly + "a", kTooLong);
  // Bytes, not characters: 2 bytes per 'ü'.
  std::string multibyte = prefix;
  while (multibyte.size() + 2 <= kMaxUrlLength) multibyte += "\xC3\xBC";
  Accept(multibyte);
  Reject(multibyte + "\xC3\xBC", kTooLong);
}

TEST(ValidateUrlTest, RequiresValidUtf8) {
  Reject("https://example.com/\xFF", kUtf8);
  Reject("https://example.com/\xC3", kUtf8);              // truncated
  Reject("https://example.com/\xC3\x28", kUtf8);          // bad continuation
  Reject("https://example.com/\xC0\xAF", kUtf8);          // overlong '/'
  Reject("https://example.com/\xE0\x80\xAF", kUtf8);      // overlong
  Reject("https://example.com/\xED\xA0\x80", kUtf8);      // surrogate U+D800
  Reject("https://example.com/\xF4\x90\x80\x80", kUtf8);  // above U+10FFFF
  Reject("https://example.com/\x80", kUtf8);              // lone continuation
  Reject(
      "https://b\xFC"
      "cher.example/",
      kUtf8);                                      // Latin-1 host
  Accept("https://example.com/\xF0\x9F\x98\x80");  // U+1F600
  Accept("https://example.com/\xF4\x8F\xBF\xBF");  // U+10FFFF
  Accept("https://example.com/\xED\x9F\xBF");      // U+D7FF
}

TEST(ValidateUrlTest, PortMustBe1To65535) {
  EXPECT_EQ(Accept("http://example.com:8080/x").location, "http://example.com:8080/x");
  Accept("http://example.com:1/");
  Accept("http://example.com:65535/");
  Accept("https://example.com:443");
  Reject("http://example.com:0/", kBadPort);
  Reject("http://example.com:65536/", kBadPort);
  Reject("http://example.com:99999999999999999999/", kBadPort);
  Reject("http://example.com:/", kBadPort);
  Reject("http://example.com:http/", kBadPort);
  Reject("http://example.com:80:80/", kBadPort);
  Reject("http://example.com:-1/", kBadPort);
  Reject("http://example.com:+80/", kBadPort);
}

TEST(ValidateUrlTest, HostSyntax) {
  Reject("https://a..b/", kBadHost);
  Reject("https://.example.com/", kBadHost);
  Reject("https://example.com../", kBadHost);
  Reject("https://./", kBadHost);
  for (const char c : std::string_view("<>\"{}|\\^`%!$&'()*+,;=~")) {
    const std::string url = std::string("https://exa") + c + "mple.com/";
    Reject(url, kBadHost);
  }
  Reject("https://example.com\\evil.com/", kBadHost);
  Reject("https://xn--" + std::string(60, 'a') + ".example/", kBadHost);  // label > 63
  Accept("https://" + std::string(63, 'a') + ".example/");
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(50, 'a') + ".";
  Reject("https://" + long_name + "com/", kBadHost);  // 258 bytes
}

TEST(ValidateUrlTest, Ipv4Literals) {
  EXPECT_EQ(Accept("http://192.0.2.1/").location, "http://192.0.2.1/");
  Accept("http://192.0.2.1:8080/x");
  Accept("http://0.0.0.0/");
  Accept("http://255.255.255.255/");
  Reject("http://256.0.0.1/", kBadHost);
  Reject("http://1.2.3/", kBadHost);
  Reject("http://1.2.3.4.5/", kBadHost);
  Reject("http://01.2.3.4/", kBadHost);  // octal in some resolvers
  Reject("http://0x7f.0.0.1/", kBadHost);
  Reject("http://2130706433/", kBadHost);  // 127.0.0.1 as one number
  Accept("http://1.2.3.example/");         // only a numeric last label makes it an address
}

TEST(ValidateUrlTest, Ipv6Literals) {
  EXPECT_EQ(Accept("http://[2001:db8::1]/x").location, "http://[2001:db8::1]/x");
  EXPECT_EQ(Accept("http://[2001:DB8::1]:8080/").location, "http://[2001:db8::1]:8080/");
  Accept("http://[::1]/");
  Accept("http://[::]/");
  Accept("http://[1:2:3:4:5:6:7:8]/");
  Accept("http://[1::]/");
  Accept("http://[::ffff:192.0.2.1]/");
  Accept("http://[1:2:3:4:5:6:192.0.2.1]/");
  Reject("http://[]/", kBadHost);
  Reject("http://[::1/", kBadHost);
  Reject("http://[::1]x/", kBadHost);
  Reject("http://[1:2:3:4:5:6:7:8:9]/", kBadHost);
  Reject("http://[1:2:3:4:5:6:7]/", kBadHost);
  Reject("http://[1::2::3]/", kBadHost);
  Reject("http://[12345::1]/", kBadHost);
  Reject("http://[:1]/", kBadHost);
  Reject("http://[1:]/", kBadHost);
  Reject("http://[g::1]/", kBadHost);
  Reject("http://[fe80::1%25eth0]/", kBadHost);
  Reject("http://[::256.0.0.1]/", kBadHost);
  Reject("http://[1:2:3:4:5:6:7:1.2.3.4]/", kBadHost);
  Reject("http://[::1]:0/", kBadPort);
  Reject("http://::1/", kNoHost);  // unbracketed: the host ends at the first colon
}

TEST(ValidateUrlTest, InternationalUrlFromTheApi) {
  const ValidatedUrl v = Accept("https://bücher.example/wiki/Straße");
  EXPECT_EQ(v.url, "https://bücher.example/wiki/Straße");
  EXPECT_EQ(v.location, "https://xn--bcher-kva.example/wiki/Stra%C3%9Fe");
}

TEST(ValidateUrlTest, InternationalHostsAndPaths) {
  EXPECT_EQ(Accept("https://BüCHER.Example/").location, "https://xn--bcher-kva.example/")
      << "ASCII letters are lowercased before encoding";
  EXPECT_EQ(Accept("http://例え.テスト/パス?q=値#片").location,
            "http://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9?q=%E5%80%A4#%E7%89%87");
  EXPECT_EQ(Accept("https://пример.рф:8443/").location, "https://xn--e1afmkfd.xn--p1ai:8443/");
  EXPECT_EQ(Accept("https://xn--bcher-kva.example/").location, "https://xn--bcher-kva.example/");
  EXPECT_EQ(Accept("https://example.com/%C3%9F/ß").location, "https://example.com/%C3%9F/%C3%9F");
  // Ideographic full stop separates labels as in IDNA.
  EXPECT_EQ(Accept("https://bücher。example/").location, "https://xn--bcher-kva.example/");
  EXPECT_EQ(Accept("https://bücher．example/").location, "https://xn--bcher-kva.example/");
  EXPECT_EQ(Accept("https://bücher｡example/").location, "https://xn--bcher-kva.example/");
  Reject("https://bücher。。example/", kBadHost);
}

TEST(ValidateUrlTest, LocationEncodesQuotesAndAngleBrackets) {
  EXPECT_EQ(Accept("https://example.com/a\"b<c>d?e=\"f\"#<g>").location,
            "https://example.com/a%22b%3Cc%3Ed?e=%22f%22#%3Cg%3E");
  // Reserved characters keep their meaning.
  EXPECT_EQ(Accept("https://example.com/a/b;c?d=e&f=g+h#i").location,
            "https://example.com/a/b;c?d=e&f=g+h#i");
}

TEST(ValidateUrlTest, RefusesLinksToThisService) {
  Reject("https://sho.rt/aZ3kP9q", kSelfLoop);
  Reject("http://sho.rt/aZ3kP9q", kSelfLoop);
  Reject("https://SHO.RT/x", kSelfLoop);
  Reject("https://sho.rt./x", kSelfLoop);
  Reject("https://sho.rt", kSelfLoop);
  Reject("https://sho.rt:443/x", kSelfLoop);
  Reject("http://sho.rt:80/x", kSelfLoop);
  // Either default port reaches the service, whatever the scheme says.
  Reject("http://sho.rt:443/x", kSelfLoop);
  Reject("https://sho.rt:80/x", kSelfLoop);
  Accept("https://sho.rt:8443/x");
  Accept("https://www.sho.rt/x");
  Accept("https://sho.rt.example/x");
  Accept("https://example.com/?u=https://sho.rt/x");
}

TEST(ValidateUrlTest, SelfHostWithExplicitPorts) {
  Reject("http://localhost:8080/abc", kSelfLoop, "localhost:8080");
  Reject("http://LOCALHOST:8080/abc", kSelfLoop, "localhost:8080");
  Reject("https://localhost:8080/abc", kSelfLoop, "localhost:8080");
  Accept("http://localhost/abc", "localhost:8080");
  Accept("http://localhost:8081/abc", "localhost:8080");
  // host:80 and host:443 are the same as host.
  Reject("http://sho.rt/x", kSelfLoop, "sho.rt:80");
  Reject("https://sho.rt/x", kSelfLoop, "sho.rt:443");
  Reject("http://sho.rt:80/x", kSelfLoop, "Sho.Rt");
  Reject("http://[::1]:8080/", kSelfLoop, "[::1]:8080");
  Accept("http://[::1]:8081/", "[::1]:8080");
  Reject("http://127.0.0.1:8080/", kSelfLoop, "127.0.0.1:8080");
  // An IDN self host matches both spellings.
  Reject("https://bücher.example/x", kSelfLoop, "xn--bcher-kva.example");
  Reject("https://xn--bcher-kva.example/x", kSelfLoop, "bücher.example");
  // A whole base URL instead of its authority is understood too.
  Reject("https://sho.rt/x", kSelfLoop, "https://sho.rt/");
  Accept("https://sho.rt:8443/x", "https://sho.rt/");
  // No self host configured: no loop check.
  Accept("https://sho.rt/x", "");
}

TEST(ToAsciiUrlTest, MatchesValidateUrlLocation) {
  for (const char* url :
       {"https://bücher.example/wiki/Straße", "http://example.com:8080/x?y#z",
        "HTTP://EXAMPLE.com/ÄÖÜ", "https://[2001:DB8::1]/", "https://example.com"}) {
    const Result<ValidatedUrl> v = ValidateUrl(url, kSelf);
    ASSERT_TRUE(v.has_value()) << url;
    EXPECT_EQ(ToAsciiUrl(url), v->location) << url;
  }
  EXPECT_EQ(ToAsciiUrl("https://example.com/%41%zz"), "https://example.com/%41%zz");
}

TEST(ToAsciiUrlTest, NeverEmitsNonAsciiOrControlBytesEvenForJunk) {
  const std::string out = ToAsciiUrl("not a url ü\r\n");
  for (const char c : out) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_TRUE(b > 0x20 && b < 0x7F) << out;
  }
}

// RFC 3492 section 7.1 sample strings.
TEST(PunycodeTest, Rfc3492Samples) {
  struct Sample {
    const char* unicode;
    const char* encoded;
  };
  const Sample samples[] = {
      {"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},            // (B) Chinese, simplified
      {"Pročprostěnemluvíčesky", "Proprostnemluvesky-uyb24dma41a"},  // (D) Czech
      {"почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"},           // (I) Russian
      {"3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"},                                 // (L)
      {"安室奈美恵-with-SUPER-MONKEYS", "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"},  // (M)
      {"そのスピードで", "d9juau41awczczp"},                                          // (R)
      {"-> $1.00 <-", "-> $1.00 <--"},                                                // (S)
  };
  for (const Sample& s : samples) {
    const Result<std::string> r = PunycodeEncode(s.unicode);
    ASSERT_TRUE(r.has_value()) << s.unicode;
    EXPECT_EQ(*r, s.encoded) << s.unicode;
  }
}

TEST(PunycodeTest, SimpleLabels) {
  EXPECT_EQ(PunycodeEncode("bücher"), "bcher-kva");
  EXPECT_EQ(PunycodeEncode("ü"), "tda");
  EXPECT_EQ(PunycodeEncode("abc"), "abc-");
  EXPECT_EQ(PunycodeEncode(""), "");
}

TEST(PunycodeTest, RejectsInvalidUtf8) {
  const Result<std::string> r = PunycodeEncode(
      "b\xFC"
      "cher");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace kurz::core
