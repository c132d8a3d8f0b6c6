// uap-core conformance (the package's own fixtures) and kurz's device-type and bot rules.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "adapters/uap/uap_parser.hpp"

namespace kurz::adapters::uap {
namespace {

constexpr const char* kRegexes = "/usr/share/uap-core/regexes.yaml";
constexpr const char* kShare = "/usr/share/uap-core/";

UapParser& Shared() {
  static std::unique_ptr<UapParser> parser = [] {
    auto loaded = UapParser::Load(kRegexes);
    if (!loaded) {
      ADD_FAILURE() << loaded.error().detail;
      std::abort();
    }
    return std::move(*loaded);
  }();
  return *parser;
}

std::string Field(const YAML::Node& node, const char* name) {
  const YAML::Node v = node[name];
  return v && !v.IsNull() ? v.as<std::string>() : std::string();
}

struct Rate {
  int passed = 0;
  int total = 0;
  double percent() const { return total == 0 ? 0 : 100.0 * passed / total; }
};

// Runs fixture files; `check` compares one case. Prints the first few mismatches.
template <class Check>
Rate RunFixtures(const std::vector<std::string>& files, Check check) {
  Rate rate;
  int shown = 0;
  for (const auto& file : files) {
    const YAML::Node root = YAML::LoadFile(kShare + file);
    for (const auto& tc : root["test_cases"]) {
      const auto ua = Field(tc, "user_agent_string");
      std::string why;
      ++rate.total;
      if (check(tc, Shared().ParseFull(ua), why)) {
        ++rate.passed;
      } else if (shown++ < 5) {
        std::printf("  mismatch %s: %s | %s\n", file.c_str(), ua.c_str(), why.c_str());
      }
    }
  }
  return rate;
}

bool Same(const std::string& got, const std::string& want, const char* what, std::string& why) {
  if (got == want) return true;
  why += std::string(what) + " got '" + got + "' want '" + want + "'; ";
  return false;
}

TEST(UapParserTest, LoadsEveryRegex) {
  EXPECT_TRUE(Shared().rejected_regexes().empty()) << Shared().rejected_regexes().front();
  EXPECT_EQ(Shared().regex_count(), 1162u);
}

TEST(UapParserTest, LoadFailsCleanly) {
  auto missing = UapParser::Load("/nonexistent/regexes.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::ErrorCode::kInvalidArgument);

  const auto path = std::filesystem::temp_directory_path() / "kurz_uap_bad.yaml";
  for (const char* text : {"user_agent_parsers: [ {regex: 'x'", "just a string", "a: 1"}) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(text, f);
    std::fclose(f);
    EXPECT_FALSE(UapParser::Load(path.string()).has_value()) << text;
  }
  std::filesystem::remove(path);
}

TEST(UapConformanceTest, BrowserFamilies) {
  Rate family;
  const Rate full = RunFixtures(
      {"tests/test_ua.yaml", "test_resources/firefox_user_agent_strings.yaml",
       "test_resources/pgts_browser_list.yaml", "test_resources/opera_mini_user_agent_strings.yaml",
       "test_resources/podcasting_user_agent_strings.yaml"},
      [&](const YAML::Node& tc, const UapResult& r, std::string& why) {
        ++family.total;
        bool ok = Same(r.ua_family, Field(tc, "family"), "family", why);
        family.passed += ok;
        ok &= Same(r.ua_major, Field(tc, "major"), "major", why);
        ok &= Same(r.ua_minor, Field(tc, "minor"), "minor", why);
        ok &= Same(r.ua_patch, Field(tc, "patch"), "patch", why);
        return ok;
      });
  std::printf("browser: family %d/%d (%.2f%%), family+version %d/%d (%.2f%%)\n", family.passed,
              family.total, family.percent(), full.passed, full.total, full.percent());
  EXPECT_GE(family.percent(), 99.5);
  EXPECT_GE(full.percent(), 99.5);
}

TEST(UapConformanceTest, OsFamilies) {
  Rate family;
  const Rate full =
      RunFixtures({"tests/test_os.yaml", "test_resources/additional_os_tests.yaml"},
                  [&](const YAML::Node& tc, const UapResult& r, std::string& why) {
                    ++family.total;
                    bool ok = Same(r.os_family, Field(tc, "family"), "family", why);
                    family.passed += ok;
                    ok &= Same(r.os_major, Field(tc, "major"), "major", why);
                    ok &= Same(r.os_minor, Field(tc, "minor"), "minor", why);
                    ok &= Same(r.os_patch, Field(tc, "patch"), "patch", why);
                    ok &= Same(r.os_patch_minor, Field(tc, "patch_minor"), "patch_minor", why);
                    return ok;
                  });
  std::printf("os: family %d/%d (%.2f%%), family+version %d/%d (%.2f%%)\n", family.passed,
              family.total, family.percent(), full.passed, full.total, full.percent());
  EXPECT_GE(family.percent(), 99.5);
  EXPECT_GE(full.percent(), 99.5);
}

TEST(UapConformanceTest, DeviceFamilies) {
  Rate family;
  const Rate full = RunFixtures(
      {"tests/test_device.yaml"}, [&](const YAML::Node& tc, const UapResult& r, std::string& why) {
        ++family.total;
        bool ok = Same(r.device_family, Field(tc, "family"), "family", why);
        family.passed += ok;
        ok &= Same(r.device_brand, Field(tc, "brand"), "brand", why);
        ok &= Same(r.device_model, Field(tc, "model"), "model", why);
        return ok;
      });
  std::printf("device: family %d/%d (%.2f%%), family+brand+model %d/%d (%.2f%%)\n", family.passed,
              family.total, family.percent(), full.passed, full.total, full.percent());
  EXPECT_GE(family.percent(), 99.5);
  EXPECT_GE(full.percent(), 99.5);
}

ports::UserAgentInfo P(std::string_view ua) { return Shared().Parse(ua); }

TEST(UapParserTest, DesktopBrowsers) {
  auto firefox =
      P("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0");
  EXPECT_EQ(firefox, (ports::UserAgentInfo{"Firefox", "Windows", "desktop", false}));
  auto chrome =
      P("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36");
  EXPECT_EQ(chrome, (ports::UserAgentInfo{"Chrome", "Linux", "desktop", false}));
  auto safari =
      P("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Safari/605.1.15");
  EXPECT_EQ(safari, (ports::UserAgentInfo{"Safari", "Mac OS X", "desktop", false}));
}

TEST(UapParserTest, PhonesAndTablets) {
  auto iphone =
      P("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.1 Mobile/15E148 Safari/604.1");
  EXPECT_EQ(iphone, (ports::UserAgentInfo{"Mobile Safari", "iOS", "mobile", false}));
  auto ipad =
      P("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/16.6 Mobile/15E148 Safari/604.1");
  EXPECT_EQ(ipad, (ports::UserAgentInfo{"Mobile Safari", "iOS", "tablet", false}));
  auto android_phone =
      P("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.43 Mobile Safari/537.36");
  EXPECT_EQ(android_phone, (ports::UserAgentInfo{"Chrome Mobile", "Android", "mobile", false}));
  auto android_tablet =
      P("Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.43 Safari/537.36");
  EXPECT_EQ(android_tablet.device, "tablet");
  EXPECT_EQ(android_tablet.os, "Android");
  EXPECT_FALSE(android_tablet.is_bot);
}

TEST(UapParserTest, CrawlersAndLinkPreviewsAreBots) {
  for (const char* ua : {
           "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
           "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
           "like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
           "+http://www.google.com/bot.html)",
           "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
           "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
           "Slackbot 1.0 (+https://api.slack.com/robots)",
           "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
           "Twitterbot/1.0",
           "WhatsApp/2.23.20.0 A",
           "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
           "TelegramBot (like TwitterBot)",
           "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
           "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/) Bot",
           "Mastodon/4.2.1 (http.rb/5.1.1; +https://mastodon.social/)",
           "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
           "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "HeadlessChrome/120.0.0.0 Safari/537.36",
       }) {
    const auto info = P(ua);
    EXPECT_TRUE(info.is_bot) << ua;
    EXPECT_EQ(info.device, "bot") << ua;
  }
}

TEST(UapParserTest, CommandLineClientsAreNotBots) {
  for (const char* ua : {"curl/8.4.0", "Wget/1.21.3", "python-requests/2.31.0"}) {
    const auto info = P(ua);
    EXPECT_FALSE(info.is_bot) << ua;
    EXPECT_EQ(info.device, "other") << ua;
  }
}

TEST(UapParserTest, EmptyAndGarbage) {
  EXPECT_EQ(P(""), (ports::UserAgentInfo{"Other", "Other", "other", false}));
  std::string garbage;
  for (int i = 0; i < 10 * 1024; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 256));
  const auto info = P(garbage);
  EXPECT_FALSE(info.browser.empty());
  std::string long_chrome(10 * 1024, 'A');
  long_chrome += " Chrome/120.0.0.0 Safari/537.36 (";
  EXPECT_EQ(P(long_chrome).browser, "Chrome");
}

TEST(UapParserTest, CacheReturnsIdenticalResults) {
  auto loaded = UapParser::Load(kRegexes, 2);
  ASSERT_TRUE(loaded.has_value());
  auto& parser = **loaded;
  const std::vector<std::string> uas = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
      "Twitterbot/1.0", "curl/8.4.0", ""};
  for (int round = 0; round < 3; ++round) {  // capacity 2 < 4 keys: hits and evictions
    for (const auto& ua : uas) {
      EXPECT_EQ(parser.Parse(ua), UapParser::Classify(parser.ParseFull(ua), ua)) << ua;
      EXPECT_EQ(parser.Parse(ua), parser.Parse(ua)) << ua;
    }
  }
  auto uncached = UapParser::Load(kRegexes, 0);
  ASSERT_TRUE(uncached.has_value());
  for (const auto& ua : uas) EXPECT_EQ((*uncached)->Parse(ua), parser.Parse(ua));
}

TEST(UapParserTest, ConcurrentParsesAgree) {
  auto loaded = UapParser::Load(kRegexes, 3);
  ASSERT_TRUE(loaded.has_value());
  auto& parser = **loaded;
  const std::vector<std::string> uas = {"Twitterbot/1.0", "curl/8.4.0", "Wget/1.21.3",
                                        "Slackbot 1.0", "WhatsApp/2.23.20.0 A"};
  std::vector<ports::UserAgentInfo> want;
  for (const auto& ua : uas) want.push_back(UapParser::Classify(parser.ParseFull(ua), ua));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto k = static_cast<std::size_t>(i) % uas.size();
        if (!(parser.Parse(uas[k]) == want[k])) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace kurz::adapters::uap
