// core/targeting's fast DeviceOf/OsOf (what a rule tests) against what the stats record for the
// same User-Agent (uap + UapParser::Classify): a rule on "mobile" or "iOS" should send the people
// the stats count as such.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/uap/uap_parser.hpp"
#include "core/targeting.hpp"

namespace kurz::adapters::uap {
namespace {

constexpr const char* kRegexes = "/usr/share/uap-core/regexes.yaml";

// The stats' OS family in OsOf's names ("" when OsOf has none for it).
std::string_view AsTargetingOs(std::string_view family) {
  if (family.starts_with("Windows") && family != "Windows Phone" && family != "Windows Mobile" &&
      family != "Windows CE" && family != "Windows RT") {
    return "Windows";
  }
  return core::CanonicalOs(family);
}

// Loaded once for both tests: compiling uap's regexes is most of their time.
const UapParser* Uap() {
  static const std::unique_ptr<UapParser> parser = [] {
    auto loaded = UapParser::Load(kRegexes, 0);
    return loaded ? std::move(*loaded) : nullptr;
  }();
  return parser.get();
}

TEST(TargetingAgreementTest, CurrentBrowsersAgreeExactly) {
  const UapParser* uap = Uap();
  ASSERT_NE(uap, nullptr) << kRegexes;
  for (const std::string_view ua : {
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
           "Gecko) Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
           "Gecko) Version/17.2 Safari/605.1.15",
           "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
           "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
           "like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
           "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
           "like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
           "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.2 Mobile/15E148 Safari/604.1",
           "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Mobile Safari/537.36",
           "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
           "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
           "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
           "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (Android 14; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0",
       }) {
    const ports::UserAgentInfo stats = UapParser::Classify(uap->ParseFull(ua), ua);
    EXPECT_EQ(core::DeviceName(core::DeviceOf(ua)), stats.device) << ua;
    EXPECT_EQ(core::OsOf(ua), AsTargetingOs(stats.os)) << ua << " (stats: " << stats.os << ")";
  }
}

// uap-core's own browser fixtures: old, odd and exotic agents included. The substring rules are
// not uap, so some differ (feature phones' proprietary strings, UC's "JUC (Linux; ...)"); most
// must not (95% and 93% on uap-core 0.16). The corpus is fixed, so the rates are the same every
// run.
TEST(TargetingAgreementTest, MostOfUapsBrowserFixturesAgree) {
  const UapParser* uap = Uap();
  ASSERT_NE(uap, nullptr) << kRegexes;
  const YAML::Node root = YAML::LoadFile("/usr/share/uap-core/tests/test_ua.yaml");
  int devices = 0;
  int same_device = 0;
  int systems = 0;
  int same_os = 0;
  for (const YAML::Node& c : root["test_cases"]) {
    const auto ua = c["user_agent_string"].as<std::string>();
    const ports::UserAgentInfo stats = UapParser::Classify(uap->ParseFull(ua), ua);
    if (stats.device == "mobile" || stats.device == "tablet" || stats.device == "desktop") {
      ++devices;
      same_device += core::DeviceName(core::DeviceOf(ua)) == stats.device ? 1 : 0;
    }
    const std::string_view os = AsTargetingOs(stats.os);
    if (!os.empty() || !core::OsOf(ua).empty()) {
      ++systems;
      same_os += core::OsOf(ua) == os ? 1 : 0;
    }
  }
  std::printf("device agrees on %d of %d, os on %d of %d\n", same_device, devices, same_os,
              systems);
  ASSERT_GT(devices, 400);
  ASSERT_GT(systems, 400);
  EXPECT_GE(same_device * 100, devices * 90);
  EXPECT_GE(same_os * 100, systems * 90);
}

}  // namespace
}  // namespace kurz::adapters::uap
