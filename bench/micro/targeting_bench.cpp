// Microbenchmarks of the targeting decision (core/targeting.hpp): what a link with rules adds to a
// redirect (issue 12: at most 2 µs), and its parts.

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "core/targeting.hpp"

namespace {

using namespace kurz;

constexpr std::string_view kChromeWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
constexpr std::string_view kSafariIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
constexpr std::string_view kChromeAndroid =
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36";
constexpr std::string_view kChromeLanguages = "de-CH,de;q=0.9,en-US;q=0.8,en;q=0.7";
constexpr core::Micros kNow = 1'800'000'000'000'000;

std::string_view AgentOf(std::int64_t which) {
  switch (which) {
    case 0:
      return kChromeWindows;
    case 1:
      return kSafariIphone;
    default:
      break;
  }
  return kChromeAndroid;
}

void BM_DeviceOf(benchmark::State& state) {
  const std::string_view ua = AgentOf(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(ua.data());
    benchmark::DoNotOptimize(core::DeviceOf(ua));
  }
}
BENCHMARK(BM_DeviceOf)->ArgName("chrome_win|iphone|android")->DenseRange(0, 2);

void BM_OsOf(benchmark::State& state) {
  const std::string_view ua = AgentOf(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(ua.data());
    benchmark::DoNotOptimize(core::OsOf(ua));
  }
}
BENCHMARK(BM_OsOf)->ArgName("chrome_win|iphone|android")->DenseRange(0, 2);

void BM_AcceptsLanguage(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(kChromeLanguages.data());
    benchmark::DoNotOptimize(core::AcceptsLanguage(kChromeLanguages, "fr"));  // reads it all
  }
}
BENCHMARK(BM_AcceptsLanguage);

// The GeoIP lookup itself is the adapter's (bench/analytics_bench measures it); here a country
// that is already known, so the figure is the decision's own.
class KnownCountry final : public core::CountryLookup {
 public:
  std::string_view Country() override { return "CH"; }
};

// Three rules (country + device + language), the worst case: every rule's language and device
// hold, so each gets to its country condition and fails there; then two variants.
core::LinkOptions ThreeRules() {
  core::LinkOptions options;
  auto rule = [&](std::vector<std::string> country, std::vector<std::string> device,
                  std::vector<std::string> language, std::string location) {
    core::LinkOptions::Rule r;
    r.when.country = std::move(country);
    r.when.device = std::move(device);
    r.when.language = std::move(language);
    r.location = std::move(location);
    options.rules.push_back(std::move(r));
  };
  rule({"DE", "AT"}, {"desktop"}, {"de"}, "https://example.de/");
  rule({"FR", "BE"}, {"desktop", "tablet"}, {"fr", "de"}, "https://example.fr/");
  rule({"US", "CA", "GB"}, {"mobile", "desktop"}, {"en"}, "https://example.com/en");
  options.variants.push_back({"https://a.example/", 70});
  options.variants.push_back({"https://b.example/", 30});
  return options;
}

// One request's whole decision: its facts built, the rules tried, a variant chosen.
void BM_ChooseLocation3Rules(benchmark::State& state) {
  const core::LinkOptions options = ThreeRules();
  KnownCountry country;
  std::uint64_t sticky = 1;
  std::size_t sent = 0;
  for (auto _ : state) {
    core::VisitorFacts visitor(kChromeWindows, kChromeLanguages, sticky++, kNow, &country);
    sent += core::ChooseLocation(options, "https://example.com/", visitor).location.size();
  }
  benchmark::DoNotOptimize(sent);
}
BENCHMARK(BM_ChooseLocation3Rules);

// The same with the visitor's address turned into the sticky value first (StickyKey).
void BM_ChooseLocation3RulesWithStickyKey(benchmark::State& state) {
  const core::LinkOptions options = ThreeRules();
  KnownCountry country;
  core::IpAddress ip = *core::ParseIp("203.0.113.7");
  const std::uint64_t secret = core::StickySecretOf("operator secret");
  std::size_t sent = 0;
  for (auto _ : state) {
    ++ip[15];
    core::VisitorFacts visitor(kChromeWindows, kChromeLanguages,
                               core::StickyKey(ip, core::DateOf(kNow), secret), kNow, &country);
    sent += core::ChooseLocation(options, "https://example.com/", visitor).location.size();
  }
  benchmark::DoNotOptimize(sent);
}
BENCHMARK(BM_ChooseLocation3RulesWithStickyKey);

// Rules on the clock only: no User-Agent, no GeoIP.
void BM_ChooseLocationClockRules(benchmark::State& state) {
  core::LinkOptions options;
  for (int i = 0; i < 3; ++i) {
    core::LinkOptions::Rule r;
    r.when.after = kNow + (i + 1) * core::kMicrosPerSecond;
    r.location = "https://example.com/later";
    options.rules.push_back(std::move(r));
  }
  std::size_t sent = 0;
  for (auto _ : state) {
    core::VisitorFacts visitor(kChromeWindows, kChromeLanguages, 0, kNow);
    sent += core::ChooseLocation(options, "https://example.com/", visitor).location.size();
  }
  benchmark::DoNotOptimize(sent);
}
BENCHMARK(BM_ChooseLocationClockRules);

void BM_AppendQuery(benchmark::State& state) {
  std::string out;
  out.reserve(512);
  for (auto _ : state) {
    out.clear();
    core::AppendQuery("https://example.com/landing?ref=short#top",
                      "utm_source=newsletter&utm_medium=email&utm_campaign=spring", out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_AppendQuery);

}  // namespace
