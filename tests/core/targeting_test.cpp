// The tests of core/targeting.hpp, one suite per function; over 600 lines because the real
// User-Agent strings and the cases of each rule of API.md "Which destination" are spelt out.

#include "core/targeting.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace kurz::core {
namespace {

// Real User-Agent strings, as current browsers send them.
constexpr std::string_view kChromeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
constexpr std::string_view kFirefoxWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
constexpr std::string_view kEdgeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
constexpr std::string_view kChromeMac =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
constexpr std::string_view kFirefoxMac =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0";
// Also what iPadOS 13+ Safari sends by default ("Request Desktop Website").
constexpr std::string_view kSafariMac =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15";
constexpr std::string_view kChromeLinux =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36";
constexpr std::string_view kFirefoxUbuntu =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
constexpr std::string_view kChromeOs =
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
constexpr std::string_view kSafariIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
constexpr std::string_view kChromeIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1";
constexpr std::string_view kFirefoxIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15";
constexpr std::string_view kIpod =
    "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/15.6 Mobile/15E148 Safari/604.1";
constexpr std::string_view kSafariIpadMobileMode =
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1";
constexpr std::string_view kChromeAndroidPhone =
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36";
constexpr std::string_view kSamsungPhone =
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36";
constexpr std::string_view kFirefoxAndroidPhone =
    "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0";
constexpr std::string_view kFirefoxAndroidTablet =
    "Mozilla/5.0 (Android 14; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0";
constexpr std::string_view kChromeAndroidTablet =
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
constexpr std::string_view kKindleFire =
    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/120.3.1 like Chrome/120.0.6099.144 Safari/537.36";
constexpr std::string_view kWindowsPhone =
    "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063";
constexpr std::string_view kFirefoxFreeBsd =
    "Mozilla/5.0 (X11; FreeBSD amd64; rv:121.0) Gecko/20100101 Firefox/121.0";
constexpr std::string_view kGooglebot =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
constexpr std::string_view kCurl = "curl/8.5.0";

constexpr Micros kNow = 1'800'000'000'000'000;

struct UaCase {
  std::string_view ua;
  Device device;
  std::string_view os;
};

TEST(UserAgentTest, DesktopBrowsersOnEachSystem) {
  for (const UaCase& c : {UaCase{kChromeWindows, Device::kDesktop, "Windows"},
                          UaCase{kFirefoxWindows, Device::kDesktop, "Windows"},
                          UaCase{kEdgeWindows, Device::kDesktop, "Windows"},
                          UaCase{kChromeMac, Device::kDesktop, "macOS"},
                          UaCase{kFirefoxMac, Device::kDesktop, "macOS"},
                          UaCase{kSafariMac, Device::kDesktop, "macOS"},
                          UaCase{kChromeLinux, Device::kDesktop, "Linux"},
                          UaCase{kFirefoxUbuntu, Device::kDesktop, "Linux"},
                          UaCase{kChromeOs, Device::kDesktop, "ChromeOS"}}) {
    EXPECT_EQ(DeviceOf(c.ua), c.device) << c.ua;
    EXPECT_EQ(OsOf(c.ua), c.os) << c.ua;
  }
}

TEST(UserAgentTest, PhonesAreMobile) {
  for (const UaCase& c :
       {UaCase{kSafariIphone, Device::kMobile, "iOS"},
        UaCase{kChromeIphone, Device::kMobile, "iOS"},
        UaCase{kFirefoxIphone, Device::kMobile, "iOS"}, UaCase{kIpod, Device::kMobile, "iOS"},
        UaCase{kChromeAndroidPhone, Device::kMobile, "Android"},
        UaCase{kSamsungPhone, Device::kMobile, "Android"},
        UaCase{kFirefoxAndroidPhone, Device::kMobile, "Android"},
        // Names Android too, but it is not one (uap: "Windows Phone").
        UaCase{kWindowsPhone, Device::kMobile, ""}}) {
    EXPECT_EQ(DeviceOf(c.ua), c.device) << c.ua;
    EXPECT_EQ(OsOf(c.ua), c.os) << c.ua;
  }
}

TEST(UserAgentTest, TabletsAreTabletsAndAndroidWithoutMobileIsOne) {
  for (const UaCase& c : {UaCase{kSafariIpadMobileMode, Device::kTablet, "iOS"},
                          UaCase{kChromeAndroidTablet, Device::kTablet, "Android"},
                          UaCase{kFirefoxAndroidTablet, Device::kTablet, "Android"},
                          UaCase{kKindleFire, Device::kTablet, "Android"}}) {
    EXPECT_EQ(DeviceOf(c.ua), c.device) << c.ua;
    EXPECT_EQ(OsOf(c.ua), c.os) << c.ua;
  }
}

TEST(UserAgentTest, AppleAppsHttpClientAndFeaturePhones) {
  // What uap reads them as: an iOS app, unless the string names a Mac's processor.
  constexpr std::string_view kIosApp = "Yelp/8.0.0 CFNetwork/672.1.14 Darwin/14.0.0";
  constexpr std::string_view kMacApp = "MyApp/1.0 CFNetwork/893.13.1 Darwin/17.3.0 (x86_64)";
  constexpr std::string_view kSymbian =
      "Mozilla/5.0 (SymbianOS/9.2; U; Series60/3.1 NokiaE71-3/1.00.000; Profile/MIDP-2.0 "
      "Configuration/CLDC-1.1;)AppleWebKit/413(KHTML, like Gecko) Safari/413";
  EXPECT_EQ(DeviceOf(kIosApp), Device::kMobile);
  EXPECT_EQ(OsOf(kIosApp), "iOS");
  EXPECT_EQ(DeviceOf(kMacApp), Device::kDesktop);
  EXPECT_EQ(OsOf(kMacApp), "macOS");
  EXPECT_EQ(DeviceOf(kSymbian), Device::kMobile);
  EXPECT_EQ(OsOf(kSymbian), "");
}

TEST(UserAgentTest, IpadInDesktopModeIsAMacAsTheStatsCountIt) {
  // iPadOS 13+ Safari sends the Mac string by default: nothing tells them apart.
  EXPECT_EQ(DeviceOf(kSafariMac), Device::kDesktop);
  EXPECT_EQ(OsOf(kSafariMac), "macOS");
}

TEST(UserAgentTest, UnknownEmptyAndBotAgentsAreDesktopsWithNoSystem) {
  for (const std::string_view ua : {std::string_view(), kCurl, kGooglebot, kFirefoxFreeBsd,
                                    std::string_view("garbage \x01\xff"), std::string_view("(")}) {
    EXPECT_EQ(DeviceOf(ua), Device::kDesktop) << ua;
    EXPECT_EQ(OsOf(ua), "") << ua;
  }
  EXPECT_EQ(OsOf(kFirefoxFreeBsd), "") << "BSD is not Linux, although it runs X11";
}

TEST(UserAgentTest, DeviceNames) {
  EXPECT_EQ(DeviceName(Device::kMobile), "mobile");
  EXPECT_EQ(DeviceName(Device::kTablet), "tablet");
  EXPECT_EQ(DeviceName(Device::kDesktop), "desktop");
}

TEST(CanonicalOsTest, AcceptsTheNamesOfTheStatsAndCommonSpellings) {
  EXPECT_EQ(CanonicalOs("iOS"), "iOS");
  EXPECT_EQ(CanonicalOs("ios"), "iOS");
  EXPECT_EQ(CanonicalOs("iPadOS"), "iOS");
  EXPECT_EQ(CanonicalOs("iPhone OS"), "iOS");
  EXPECT_EQ(CanonicalOs("Mac OS X"), "macOS");  // uap's name, as the stats show it
  EXPECT_EQ(CanonicalOs("macOS"), "macOS");
  EXPECT_EQ(CanonicalOs("MACOS"), "macOS");
  EXPECT_EQ(CanonicalOs("OS X"), "macOS");
  EXPECT_EQ(CanonicalOs("Chrome OS"), "ChromeOS");  // uap's name
  EXPECT_EQ(CanonicalOs("chromeos"), "ChromeOS");
  EXPECT_EQ(CanonicalOs("Windows"), "Windows");
  EXPECT_EQ(CanonicalOs("android"), "Android");
  EXPECT_EQ(CanonicalOs("Linux"), "Linux");
  EXPECT_EQ(CanonicalOs("Ubuntu"), "Linux");
  EXPECT_EQ(CanonicalOs("Linux Mint"), "Linux");
  EXPECT_EQ(CanonicalOs("BeOS"), "");
  EXPECT_EQ(CanonicalOs(""), "");
  EXPECT_EQ(CanonicalOs("   "), "");
  EXPECT_EQ(CanonicalOs(std::string(100, 'a')), "");
}

TEST(AcceptsLanguageTest, MatchesPrimarySubtagsCaseInsensitively) {
  constexpr std::string_view kHeader = "de-AT,de;q=0.9,en-US;q=0.8,en;q=0.7";
  EXPECT_TRUE(AcceptsLanguage(kHeader, "de"));
  EXPECT_TRUE(AcceptsLanguage(kHeader, "en"));
  EXPECT_TRUE(AcceptsLanguage(kHeader, "DE"));
  EXPECT_FALSE(AcceptsLanguage(kHeader, "fr"));
  EXPECT_FALSE(AcceptsLanguage(kHeader, "at")) << "a region is not a language";
  EXPECT_TRUE(AcceptsLanguage("FR-ca", "fr"));
  EXPECT_TRUE(AcceptsLanguage("pt_BR", "pt")) << "the underscore some clients send";
  EXPECT_FALSE(AcceptsLanguage("deu", "de")) << "a whole subtag, not a prefix";
  EXPECT_FALSE(AcceptsLanguage("de", "deu"));
  EXPECT_TRUE(AcceptsLanguage("gsw-CH", "gsw"));
}

TEST(AcceptsLanguageTest, IgnoresEntriesRefusedWithQZero) {
  EXPECT_FALSE(AcceptsLanguage("en, de;q=0", "de"));
  EXPECT_FALSE(AcceptsLanguage("en, de;q=0.0", "de"));
  EXPECT_FALSE(AcceptsLanguage("en, de;q=0.000", "de"));
  EXPECT_FALSE(AcceptsLanguage("en, de ; q=0 ", "de"));
  EXPECT_FALSE(AcceptsLanguage("en, de;Q=0", "de"));
  EXPECT_TRUE(AcceptsLanguage("en, de;q=0.001", "de"));
  EXPECT_TRUE(AcceptsLanguage("en, de;q=1", "de"));
  EXPECT_TRUE(AcceptsLanguage("en, de;q=0.5", "de"));
  EXPECT_TRUE(AcceptsLanguage("de;q=0, de-AT;q=0.5", "de")) << "another entry still accepts";
  EXPECT_TRUE(AcceptsLanguage("en;q=0, de", "de"));
}

TEST(AcceptsLanguageTest, WildcardEmptyAndGarbageMatchNoLanguage) {
  EXPECT_FALSE(AcceptsLanguage("*", "de"));
  EXPECT_FALSE(AcceptsLanguage("en, *;q=0.5", "de"));
  EXPECT_FALSE(AcceptsLanguage("", "de"));
  EXPECT_FALSE(AcceptsLanguage(",,,;;;===", "de"));
  EXPECT_FALSE(AcceptsLanguage("de", ""));
  EXPECT_FALSE(AcceptsLanguage("*", "*"));
  EXPECT_FALSE(AcceptsLanguage("\x01\xff;q=", "de"));
  EXPECT_TRUE(AcceptsLanguage("  ,  de  ,", "de")) << "blanks and empty entries are skipped";
  EXPECT_TRUE(AcceptsLanguage("de;q=banana", "de")) << "a malformed weight does not refuse";
  EXPECT_TRUE(AcceptsLanguage("de;q=", "de"));
}

// A GeoIP stand-in that counts its lookups.
class FakeCountry final : public CountryLookup {
 public:
  explicit FakeCountry(std::string_view country) : country_(country) {}
  std::string_view Country() override {
    ++lookups;
    return country_;
  }
  int lookups = 0;

 private:
  std::string_view country_;
};

// RuleConditions by name (designated initialisers leave the rest to -Wmissing-field-initializers).
struct When {
  RuleConditions c;
  When& Country(std::vector<std::string> v) {
    c.country = std::move(v);
    return *this;
  }
  When& Device(std::vector<std::string> v) {
    c.device = std::move(v);
    return *this;
  }
  When& Os(std::vector<std::string> v) {
    c.os = std::move(v);
    return *this;
  }
  When& Language(std::vector<std::string> v) {
    c.language = std::move(v);
    return *this;
  }
  When& After(Micros t) {
    c.after = t;
    return *this;
  }
  When& Before(Micros t) {
    c.before = t;
    return *this;
  }
  operator RuleConditions() const { return c; }  // NOLINT(google-explicit-constructor)
};

LinkOptions::Rule RuleTo(std::string location, RuleConditions when) {
  return {std::move(when), std::move(location)};
}

TEST(ChooseLocationTest, NoRulesNoVariantsIsTheLinksOwnLocation) {
  const LinkOptions options;
  VisitorFacts visitor(kChromeWindows, "de", 1, kNow);
  const ChosenLocation chosen = ChooseLocation(options, "https://own.example/", visitor);
  EXPECT_EQ(chosen.location, "https://own.example/");
  EXPECT_EQ(chosen.from, ChosenLocation::From::kDefault);
  EXPECT_FALSE(visitor.user_agent_read());
  EXPECT_FALSE(visitor.country_read());
}

TEST(ChooseLocationTest, TheFirstRuleWhoseEveryConditionHoldsWins) {
  LinkOptions options;
  options.rules.push_back(
      RuleTo("https://de-iphone.example/", When().Country({"DE"}).Device({"mobile"}).Os({"iOS"})));
  options.rules.push_back(RuleTo("https://de.example/", When().Country({"DE", "AT"})));
  options.rules.push_back(RuleTo("https://mobile.example/", When().Device({"mobile", "tablet"})));
  FakeCountry at("AT");
  FakeCountry de("DE");
  FakeCountry us("US");

  VisitorFacts iphone_de(kSafariIphone, "", 0, kNow, &de);
  EXPECT_EQ(ChooseLocation(options, "https://own/", iphone_de),
            (ChosenLocation{"https://de-iphone.example/", ChosenLocation::From::kRule, 0}));

  VisitorFacts android_de(kChromeAndroidPhone, "", 0, kNow, &de);  // not iOS: rule 0 fails
  EXPECT_EQ(ChooseLocation(options, "https://own/", android_de).location, "https://de.example/");

  VisitorFacts windows_at(kChromeWindows, "", 0, kNow, &at);  // "any of" inside the list
  EXPECT_EQ(ChooseLocation(options, "https://own/", windows_at).index, 1U);

  VisitorFacts tablet_us(kChromeAndroidTablet, "", 0, kNow, &us);
  EXPECT_EQ(ChooseLocation(options, "https://own/", tablet_us).location, "https://mobile.example/");

  VisitorFacts desktop_us(kFirefoxMac, "", 0, kNow, &us);
  const ChosenLocation none = ChooseLocation(options, "https://own/", desktop_us);
  EXPECT_EQ(none.location, "https://own/");
  EXPECT_EQ(none.from, ChosenLocation::From::kDefault);
}

TEST(ChooseLocationTest, ConditionsCompareWithoutCaseAndOsByItsCommonNames) {
  LinkOptions options;
  options.rules.push_back(RuleTo("https://mac/", When().Country({"de"}).Os({"Mac OS X"})));
  options.rules.push_back(RuleTo("https://cros/", When().Device({"Desktop"}).Os({"chrome os"})));
  FakeCountry de("DE");
  VisitorFacts mac(kSafariMac, "", 0, kNow, &de);
  EXPECT_EQ(ChooseLocation(options, "https://own/", mac).location, "https://mac/");
  VisitorFacts cros(kChromeOs, "", 0, kNow);
  EXPECT_EQ(ChooseLocation(options, "https://own/", cros).location, "https://cros/");
  FakeCountry de_lower("de");
  VisitorFacts mac_lower(kSafariMac, "", 0, kNow, &de_lower);
  EXPECT_EQ(ChooseLocation(options, "https://own/", mac_lower).location, "https://mac/");
}

TEST(ChooseLocationTest, AnUnknownVisitorMatchesNoCountryOrOsCondition) {
  LinkOptions options;
  options.rules.push_back(RuleTo("https://zz/", When().Country({"ZZ"})));
  options.rules.push_back(RuleTo("https://os/", When().Os({"Windows", "iOS", "macOS", "Linux"})));
  VisitorFacts no_geoip(kCurl, "", 0, kNow, nullptr);
  EXPECT_EQ(ChooseLocation(options, "https://own/", no_geoip).location, "https://own/");
  FakeCountry unknown("");
  VisitorFacts empty_country(kCurl, "", 0, kNow, &unknown);
  EXPECT_EQ(ChooseLocation(options, "https://own/", empty_country).location, "https://own/");
}

TEST(ChooseLocationTest, LanguageConditionsReadAcceptLanguage) {
  LinkOptions options;
  options.rules.push_back(RuleTo("https://fr/", When().Language({"fr", "it"})));
  options.rules.push_back(RuleTo("https://de/", When().Language({"de"})));
  VisitorFacts swiss(kChromeWindows, "de-CH,fr;q=0.8", 0, kNow);
  EXPECT_EQ(ChooseLocation(options, "https://own/", swiss).location, "https://fr/")
      << "the first rule wins, not the preferred language";
  VisitorFacts german(kChromeWindows, "de-DE,de;q=0.9,fr;q=0", 0, kNow);
  EXPECT_EQ(ChooseLocation(options, "https://own/", german).location, "https://de/");
  VisitorFacts any(kChromeWindows, "*", 0, kNow);
  EXPECT_EQ(ChooseLocation(options, "https://own/", any).location, "https://own/");
  EXPECT_FALSE(any.user_agent_read()) << "no rule tests the User-Agent";
}

TEST(ChooseLocationTest, AfterIsInclusiveAndBeforeExclusive) {
  constexpr Micros kStart = kNow;
  constexpr Micros kEnd = kNow + 3'600 * kMicrosPerSecond;
  LinkOptions options;
  options.rules.push_back(RuleTo("https://launch/", When().After(kStart).Before(kEnd)));
  for (const auto& [now, expected] :
       {std::pair{kStart - 1, "https://own/"}, std::pair{kStart, "https://launch/"},
        std::pair{kEnd - 1, "https://launch/"}, std::pair{kEnd, "https://own/"}}) {
    VisitorFacts visitor(kChromeWindows, "", 0, now);
    EXPECT_EQ(ChooseLocation(options, "https://own/", visitor).location, expected) << now;
  }
  LinkOptions only_after;
  only_after.rules.push_back(RuleTo("https://later/", When().After(kStart)));
  VisitorFacts far_future(kChromeWindows, "", 0, kEnd * 2);
  EXPECT_EQ(ChooseLocation(only_after, "https://own/", far_future).location, "https://later/");
}

TEST(ChooseLocationTest, ClockRulesPayForNoUserAgentAndNoGeoIp) {
  LinkOptions options;
  options.rules.push_back(RuleTo("https://early/", When().Before(kNow - 1)));
  options.rules.push_back(RuleTo("https://late/", When().After(kNow + 1)));
  FakeCountry geo("DE");
  VisitorFacts visitor(kChromeWindows, "de", 0, kNow, &geo);
  EXPECT_EQ(ChooseLocation(options, "https://own/", visitor).location, "https://own/");
  EXPECT_FALSE(visitor.user_agent_read());
  EXPECT_FALSE(visitor.country_read());
  EXPECT_EQ(geo.lookups, 0);
}

TEST(ChooseLocationTest, GeoIpIsAskedOnceAndOnlyWhenARuleGetsToItsCountry) {
  LinkOptions options;
  // A failing device condition spares the lookup of the same rule.
  options.rules.push_back(RuleTo("https://a/", When().Country({"DE"}).Device({"tablet"})));
  FakeCountry geo("FR");
  VisitorFacts desktop(kChromeWindows, "", 0, kNow, &geo);
  ChooseLocation(options, "https://own/", desktop);
  EXPECT_EQ(geo.lookups, 0);
  EXPECT_TRUE(desktop.user_agent_read());

  options.rules.push_back(RuleTo("https://b/", When().Country({"AT"})));
  options.rules.push_back(RuleTo("https://c/", When().Country({"CH"})));
  options.rules.push_back(RuleTo("https://d/", When().Country({"FR"})));
  VisitorFacts again(kChromeWindows, "", 0, kNow, &geo);
  EXPECT_EQ(ChooseLocation(options, "https://own/", again).location, "https://d/");
  EXPECT_EQ(geo.lookups, 1) << "three country rules, one lookup";
}

LinkOptions WithVariants(std::vector<int> weights) {
  LinkOptions options;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    options.variants.push_back({"https://v" + std::to_string(i) + "/", weights[i]});
  }
  return options;
}

std::size_t VariantOf(const LinkOptions& options, std::uint64_t sticky) {
  VisitorFacts visitor(kChromeWindows, "", sticky, kNow);
  const ChosenLocation chosen = ChooseLocation(options, "https://own/", visitor);
  EXPECT_EQ(chosen.from, ChosenLocation::From::kVariant);
  EXPECT_EQ(chosen.location, options.variants[chosen.index].location);
  return chosen.index;
}

TEST(VariantsTest, TheSameStickyValueAlwaysGetsTheSameVariant) {
  const LinkOptions options = WithVariants({50, 30, 20});
  for (std::uint64_t sticky : {0ULL, 1ULL, 42ULL, 0xffffffffffffffffULL, 0x8000000000000000ULL}) {
    const std::size_t first = VariantOf(options, sticky);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(VariantOf(options, sticky), first) << sticky;
  }
}

TEST(VariantsTest, VisitorsSpreadInProportionToTheWeights) {
  // Deterministic inputs (consecutive sticky values, as the worst spread of inputs): the counts
  // are the same every run, and the tolerance is wide beside what chance would give.
  constexpr int kVisitors = 100'000;
  for (const std::vector<int>& weights :
       {std::vector<int>{70, 30}, std::vector<int>{1, 1, 98},
        std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, std::vector<int>{100, 100}}) {
    const LinkOptions options = WithVariants(weights);
    std::vector<int> counts(weights.size());
    for (int s = 0; s < kVisitors; ++s) ++counts[VariantOf(options, static_cast<std::uint64_t>(s))];
    int total = 0;
    for (const int w : weights) total += w;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      const double expected = static_cast<double>(kVisitors) * weights[i] / total;
      EXPECT_NEAR(counts[i], expected, (0.05 * expected) + 100) << "variant " << i;
    }
  }
}

TEST(VariantsTest, VisitorsOfRealAddressesSpreadToo) {
  const LinkOptions options = WithVariants({70, 30});
  const std::uint64_t secret = StickySecretOf("operator secret");
  int first = 0;
  constexpr int kVisitors = 65'536;
  for (int i = 0; i < kVisitors; ++i) {
    // 10.0.x.y: neighbouring addresses, as one office or ISP block sends them.
    IpAddress ip = *ParseIp("10.0.0.0");
    ip[14] = static_cast<std::uint8_t>(i >> 8);
    ip[15] = static_cast<std::uint8_t>(i);
    first += VariantOf(options, StickyKey(ip, Date{20'000}, secret)) == 0 ? 1 : 0;
  }
  EXPECT_NEAR(first, kVisitors * 0.7, kVisitors * 0.02);
}

TEST(VariantsTest, VariantsComeAfterRulesAndUnweightedOnesAreNeverChosen) {
  LinkOptions options = WithVariants({0, 5, -3});
  options.rules.push_back(RuleTo("https://rule/", When().Device({"mobile"})));
  VisitorFacts phone(kSafariIphone, "", 7, kNow);
  EXPECT_EQ(ChooseLocation(options, "https://own/", phone).location, "https://rule/");
  for (std::uint64_t s = 0; s < 1000; ++s) EXPECT_EQ(VariantOf(options, s), 1U);
  const LinkOptions none = WithVariants({0, 0});
  VisitorFacts visitor(kChromeWindows, "", 3, kNow);
  EXPECT_EQ(ChooseLocation(none, "https://own/", visitor).from, ChosenLocation::From::kDefault);
}

TEST(StickyKeyTest, SameVisitorAndDaySameKeyOtherwiseAnother) {
  const IpAddress a = *ParseIp("203.0.113.7");
  const IpAddress b = *ParseIp("203.0.113.8");
  const IpAddress v6 = *ParseIp("2001:db8::7");
  const std::uint64_t secret = StickySecretOf("s3cret");
  EXPECT_EQ(StickyKey(a, Date{20'000}, secret), StickyKey(a, Date{20'000}, secret));
  EXPECT_NE(StickyKey(a, Date{20'000}, secret), StickyKey(b, Date{20'000}, secret));
  EXPECT_NE(StickyKey(a, Date{20'000}, secret), StickyKey(a, Date{20'001}, secret));
  EXPECT_NE(StickyKey(a, Date{20'000}, secret), StickyKey(v6, Date{20'000}, secret));
  EXPECT_NE(StickyKey(a, Date{20'000}, secret),
            StickyKey(a, Date{20'000}, StickySecretOf("other")));
  EXPECT_NE(StickySecretOf(""), StickySecretOf("a"));
  EXPECT_EQ(StickySecretOf("s3cret"), secret);
}

TEST(StickyKeyTest, ANewDayDealsVariantsAnew) {
  // 50/50: about half of the visitors see the other variant the next day (not all, not none).
  const LinkOptions options = WithVariants({50, 50});
  const std::uint64_t secret = StickySecretOf("s");
  int changed = 0;
  constexpr int kVisitors = 10'000;
  for (int i = 0; i < kVisitors; ++i) {
    IpAddress ip = *ParseIp("198.51.100.0");
    ip[14] = static_cast<std::uint8_t>(i >> 8);
    ip[15] = static_cast<std::uint8_t>(i);
    changed += VariantOf(options, StickyKey(ip, Date{20'000}, secret)) !=
                       VariantOf(options, StickyKey(ip, Date{20'001}, secret))
                   ? 1
                   : 0;
  }
  EXPECT_NEAR(changed, kVisitors / 2, kVisitors / 20);
}

// --- Validation ---

std::string MessageOf(const Result<void>& r) {
  EXPECT_FALSE(r.has_value());
  if (r.has_value()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  return r.error().detail;
}

TEST(ValidateRuleConditionsTest, AcceptsTheExamplesOfTheApi) {
  RuleConditions when = When()
                            .Country({"DE", "AT"})
                            .Device({"mobile"})
                            .Os({"iOS"})
                            .Language({"de"})
                            .After(kNow)
                            .Before(kNow + 1);
  EXPECT_TRUE(ValidateRuleConditions(when, 0).has_value());
  EXPECT_TRUE(ValidateRuleConditions(When().Device({"tablet", "desktop"}), 0).has_value());
  EXPECT_TRUE(ValidateRuleConditions(When().Language({"gsw", "EN"}), 0).has_value());
  EXPECT_TRUE(ValidateRuleConditions(When().Os({"Mac OS X", "BeOS"}), 0).has_value());
  EXPECT_TRUE(ValidateRuleConditions(When().After(kNow), 0).has_value());
  EXPECT_TRUE(ValidateRuleConditions(When().Before(kNow), 0).has_value());
}

TEST(ValidateRuleConditionsTest, NamesTheFieldOfEachBadValue) {
  struct Case {
    RuleConditions when;
    std::string_view field;
  };
  const std::vector<Case> cases = {
      {{}, "rules[2].if needs at least one condition"},
      {When().Country({}).Device({}), "rules[2].if needs at least one condition"},
      {When().Country({"DEU"}), "rules[2].if.country "},
      {When().Country({"D"}), "rules[2].if.country "},
      {When().Country({"D1"}), "rules[2].if.country "},
      {When().Country({"DE", ""}), "rules[2].if.country "},
      {When().Device({"phone"}), "rules[2].if.device must be mobile, tablet or desktop"},
      {When().Device({""}), "rules[2].if.device "},
      {When().Os({""}), "rules[2].if.os "},
      {When().Os({std::string(33, 'x')}), "rules[2].if.os "},
      {When().Os({"i\nOS"}), "rules[2].if.os "},
      {When().Language({"d"}), "rules[2].if.language "},
      {When().Language({"deut"}), "rules[2].if.language "},
      {When().Language({"de-AT"}), "rules[2].if.language "},
      {When().Language({"*"}), "rules[2].if.language "},
      {When().After(kNow).Before(kNow), "rules[2].if.after must be before rules[2].if.before"},
      {When().After(kNow + 1).Before(kNow), "rules[2].if.after "},
      {When().Country(std::vector<std::string>(21, "DE")), "rules[2].if.country has more than 20"},
      {When().Language(std::vector<std::string>(21, "de")),
       "rules[2].if.language has more than 20"},
  };
  for (const Case& c : cases) {
    const std::string message = MessageOf(ValidateRuleConditions(c.when, 2));
    EXPECT_TRUE(message.starts_with(c.field)) << message << " / " << c.field;
  }
  EXPECT_TRUE(ValidateRuleConditions(When().Country(std::vector<std::string>(20, "DE")), 0));
  EXPECT_TRUE(ValidateRuleConditions(When().Os({std::string(32, 'x')}), 0));
}

TEST(ValidateRulesTest, CountsRulesAndNamesTheBadOnesPosition) {
  std::vector<TargetRule> rules(kMaxRules, TargetRule{When().Device({"mobile"}), "https://m/"});
  EXPECT_TRUE(ValidateRules(rules).has_value());
  EXPECT_TRUE(ValidateRules({}).has_value());
  rules[7].when.device = {"watch"};
  EXPECT_TRUE(MessageOf(ValidateRules(rules)).starts_with("rules[7].if.device"));
  rules[7].when.device = {"mobile"};
  rules.push_back(rules.front());
  EXPECT_EQ(MessageOf(ValidateRules(rules)), "rules has more than 20 rules");
}

TEST(ValidateVariantsTest, TwoToTenVariantsWeighingOneToAHundred) {
  auto variants = [](std::vector<int> weights) {
    std::vector<Variant> v;
    for (const int w : weights) v.push_back({"https://v/", w});
    return v;
  };
  EXPECT_TRUE(ValidateVariants(variants({})).has_value()) << "no variants";
  EXPECT_TRUE(ValidateVariants(variants({1, 100})).has_value());
  EXPECT_TRUE(ValidateVariants(variants(std::vector<int>(10, 10))).has_value());
  EXPECT_EQ(MessageOf(ValidateVariants(variants({50}))), "variants must have 2 to 10 entries");
  EXPECT_EQ(MessageOf(ValidateVariants(variants(std::vector<int>(11, 10)))),
            "variants must have 2 to 10 entries");
  EXPECT_EQ(MessageOf(ValidateVariants(variants({50, 0}))), "variants[1].weight must be 1 to 100");
  EXPECT_EQ(MessageOf(ValidateVariants(variants({101, 5}))), "variants[0].weight must be 1 to 100");
  EXPECT_EQ(MessageOf(ValidateVariants(variants({5, 5, -1}))),
            "variants[2].weight must be 1 to 100");
}

TEST(NormalizeRuleConditionsTest, OneSpellingForReads) {
  RuleConditions when = When()
                            .Country({"de", "At"})
                            .Device({"Mobile"})
                            .Os({"mac os x", "ios", "BeOS"})
                            .Language({"DE"});
  NormalizeRuleConditions(when);
  EXPECT_EQ(when.country, (std::vector<std::string>{"DE", "AT"}));
  EXPECT_EQ(when.device, (std::vector<std::string>{"mobile"}));
  EXPECT_EQ(when.os, (std::vector<std::string>{"macOS", "iOS", "BeOS"}));
  EXPECT_EQ(when.language, (std::vector<std::string>{"de"}));
}

// --- forward_query ---

std::string Forward(std::string_view location, std::string_view query) {
  std::string out;
  AppendQuery(location, query, out);
  return out;
}

TEST(AppendQueryTest, AddsTheShortUrlsQueryBeforeTheFragment) {
  EXPECT_EQ(Forward("https://x/p?a=1#frag", "utm_x=2"), "https://x/p?a=1&utm_x=2#frag");
  EXPECT_EQ(Forward("https://x/p?a=1", "utm_x=2&b=3"), "https://x/p?a=1&utm_x=2&b=3");
  EXPECT_EQ(Forward("https://x/p", "utm_x=2"), "https://x/p?utm_x=2");
  EXPECT_EQ(Forward("https://x/p#top", "utm_x=2"), "https://x/p?utm_x=2#top");
  EXPECT_EQ(Forward("https://x/p#a?b", "c=1"), "https://x/p?c=1#a?b")
      << "a '?' in the fragment is no query";
  EXPECT_EQ(Forward("https://x/p?", "c=1"), "https://x/p?c=1");
  EXPECT_EQ(Forward("https://x/p?a=1&", "c=1"), "https://x/p?a=1&c=1");
  EXPECT_EQ(Forward("https://x/p", "?c=1"), "https://x/p?c=1") << "one leading '?' dropped";
}

TEST(AppendQueryTest, NoQueryLeavesTheLocationUnchanged) {
  EXPECT_EQ(Forward("https://x/p?a=1#frag", ""), "https://x/p?a=1#frag");
  EXPECT_EQ(Forward("https://x/p", "?"), "https://x/p");
  EXPECT_EQ(Forward("https://x/p", ""), "https://x/p");
}

TEST(AppendQueryTest, KeepsEscapesAndEncodesWhatNoHeaderOrQueryMayHold) {
  EXPECT_EQ(Forward("https://x/", "q=caf%C3%A9&n=a+b"), "https://x/?q=caf%C3%A9&n=a+b");
  EXPECT_EQ(Forward("https://x/", "a[]=1&b={x}|y"), "https://x/?a[]=1&b={x}|y");
  EXPECT_EQ(Forward("https://x/", "q=a b"), "https://x/?q=a%20b");
  EXPECT_EQ(Forward("https://x/", "q=a\r\nSet-Cookie: x=1"),
            "https://x/?q=a%0D%0ASet-Cookie:%20x=1")
      << "no header can be injected";
  EXPECT_EQ(Forward("https://x/", std::string_view("q=\0\x7f\t", 5)), "https://x/?q=%00%7F%09");
  EXPECT_EQ(Forward("https://x/", "q=\xc3\xa9"), "https://x/?q=%C3%A9");
  EXPECT_EQ(Forward("https://x/#f", "q=1#x"), "https://x/?q=1%23x#f") << "the fragment stays last";
  EXPECT_EQ(Forward("https://x/", "q=\"<b>\""), "https://x/?q=%22%3Cb%3E%22");
  EXPECT_EQ(Forward("https://x/", "p=100%"), "https://x/?p=100%25");
  EXPECT_EQ(Forward("https://x/", "p=%zz&r=%4"), "https://x/?p=%25zz&r=%254");
}

TEST(AppendQueryTest, AppendsToWhatOutHolds) {
  std::string out = "Location: ";
  AppendQuery("https://x/", "a=1", out);
  EXPECT_EQ(out, "Location: https://x/?a=1");
}

}  // namespace
}  // namespace kurz::core
