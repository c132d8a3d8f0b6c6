// Events per second through the analytics pipeline (analytics::Aggregator: user agent, GeoIP,
// referrer host, visitor id, aggregation per code/day/minute) on one thread, and through the
// whole embedded drain path (the same plus SqliteClickStore::Apply of each window).
//
// Usage: kurz_analytics_bench [--geoip FILE.mmdb] [--uap-regexes FILE] [--events N]
// The traffic: a weighted mix of 40 real user agents (phones, desktops, tablets, crawlers and
// link previews, ~10% bots), 50,000 client IPs, 12 referrers plus direct, 10,000 links, one
// window per 100,000 events (what the drain stores per second at that rate).

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/geoip/maxmind_locator.hpp"
#include "adapters/geoip/no_geo_locator.hpp"
#include "adapters/sqlite/click_store.hpp"
#include "adapters/sqlite/database.hpp"
#include "adapters/uap/uap_parser.hpp"
#include "analytics/aggregator.hpp"
#include "analytics/click_message.hpp"

namespace {

using namespace kurz;

struct WeightedAgent {
  int weight;
  const char* ua;
};

// Roughly the shares of a consumer link's traffic: mostly mobile, Chrome and Safari.
const WeightedAgent kAgents[] = {
    {14,
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"},
    {6,
     "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/16.6 Mobile/15E148 Safari/604.1"},
    {12,
     "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 "
     "Mobile Safari/537.36"},
    {5,
     "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.6367.113 Mobile Safari/537.36"},
    {3,
     "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"},
    {2,
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1"},
    {2,
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Mobile/15E148 Instagram 330.0.0.40.92"},
    {2,
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/465.0.0.48.109]"},
    {1,
     "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
     "Chrome/125.0.6422.53 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/466.0.0.55.73;]"},
    {1, "Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0"},
    {12,
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36"},
    {4,
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0"},
    {5,
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36"},
    {4,
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15"},
    {2, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0"},
    {1, "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"},
    {1,
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 "
     "Safari/537.36"},
    {1,
     "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36"},
    {1,
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36 OPR/110.0.0.0"},
    {2,
     "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1"},
    {1,
     "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36"},
    {1,
     "Mozilla/5.0 (Linux; Android 9; AFTMM) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/108.0.5359.220 Mobile Safari/537.36"},
    {1, "curl/8.5.0"},
    {1, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
    {1, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"},
    {1, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"},
    {1, "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"},
    {1, "Twitterbot/1.0"},
    {1, "WhatsApp/2.23.20.0"},
    {1, "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"},
    {1, "TelegramBot (like TwitterBot)"},
    {1, "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"},
    {1, "Mastodon/4.2.8 (http.rb/5.1.1; +https://mastodon.social/)"},
    {1, "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"},
    {1, "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"},
};

const char* const kReferrers[] = {
    "",  // direct, several times as likely
    "",
    "",
    "",
    "https://t.co/",
    "https://www.google.com/",
    "https://news.ycombinator.com/item?id=40000000",
    "https://www.reddit.com/r/programming/comments/abc/",
    "https://www.facebook.com/",
    "https://l.instagram.com/?u=x",
    "https://www.linkedin.com/feed/",
    "android-app://com.google.android.gm/",
    "https://mail.google.com/",
    "https://duckduckgo.com/",
    "https://lobste.rs/s/abc",
    "https://example.com/blog/post",
};

std::vector<core::ClickEvent> MakeTraffic(std::size_t n, bool unique_agents) {
  std::mt19937_64 rng(7);
  std::vector<int> agent_pick;
  for (std::size_t i = 0; i < std::size(kAgents); ++i) {
    for (int w = 0; w < kAgents[i].weight; ++w) agent_pick.push_back(static_cast<int>(i));
  }
  std::vector<std::array<std::uint8_t, 16>> ips(50'000);
  for (auto& ip : ips) {
    ip = {};
    ip[10] = ip[11] = 0xff;
    for (int b = 12; b < 16; ++b) ip[b] = static_cast<std::uint8_t>(rng());
    ip[12] = static_cast<std::uint8_t>(1 + rng() % 222);
  }
  const core::Micros t0 = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  std::vector<core::ClickEvent> events(n);
  for (std::size_t i = 0; i < n; ++i) {
    core::ClickEvent& e = events[i];
    e.id_lo = i;
    e.at = t0 + static_cast<core::Micros>(i) * 10;  // 100,000 events per second of clock
    char code[8];
    std::snprintf(code, sizeof code, "c%06u", static_cast<unsigned>(rng() % 10'000));
    e.code.Assign(code);
    e.ip = ips[rng() % ips.size()];
    std::string ua = kAgents[agent_pick[rng() % agent_pick.size()]].ua;
    if (unique_agents) ua += " build/" + std::to_string(i);
    e.user_agent.Assign(ua);
    e.referrer.Assign(kReferrers[rng() % std::size(kReferrers)]);
  }
  return events;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

struct Run {
  double seconds = 0;
  std::size_t deltas = 0;
};

// Events through the aggregator, taking a window every `window` events; with `store`, each
// window is applied to it as the drain does.
Run Pipeline(analytics::Aggregator& aggregator, const std::vector<core::ClickEvent>& events,
             std::size_t window, ports::ClickLog* store, std::uint64_t& batch) {
  Run run;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < events.size(); ++i) {
    aggregator.Add(events[i]);
    if ((i + 1) % window == 0 || i + 1 == events.size()) {
      core::ClickBatch b{"bench-" + std::to_string(++batch), aggregator.Take()};
      run.deltas += b.deltas.size();
      if (store != nullptr && !store->Apply(b)) std::fprintf(stderr, "apply failed\n");
    }
  }
  run.seconds = Seconds(std::chrono::steady_clock::now() - start);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::string geoip;
  std::string regexes = "/usr/share/uap-core/regexes.yaml";
  std::size_t n = 1'000'000;
  const auto usage = [&] {
    std::fprintf(stderr, "usage: %s [--geoip FILE.mmdb] [--uap-regexes FILE] [--events N]\n",
                 argv[0]);
    return 2;
  };
  if (argc % 2 == 0) return usage();  // a flag without its value
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string_view value = argv[i + 1];
    if (flag == "--geoip") {
      geoip = value;
    } else if (flag == "--uap-regexes") {
      regexes = value;
    } else if (flag == "--events") {
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 20 || n > 100'000'000) {
        std::fprintf(stderr, "--events must be a number from 20 to 100000000\n");
        return 2;
      }
    } else {
      return usage();
    }
  }

  const auto load_start = std::chrono::steady_clock::now();
  auto parser = adapters::uap::UapParser::Load(regexes);
  if (!parser) {
    std::fprintf(stderr, "cannot load %s: %s\n", regexes.c_str(), parser.error().detail.c_str());
    return 1;
  }
  const double load_seconds = Seconds(std::chrono::steady_clock::now() - load_start);
  std::unique_ptr<ports::GeoLocator> geo = std::make_unique<adapters::geoip::NoGeoLocator>();
  if (!geoip.empty()) {
    auto opened = adapters::geoip::MaxMindLocator::Open(geoip);
    if (!opened) {
      std::fprintf(stderr, "cannot open %s: %s\n", geoip.c_str(), opened.error().detail.c_str());
      return 1;
    }
    geo = std::move(*opened);
  }
  std::printf("uap-core regexes loaded in %.2f s; GeoIP: %s\n", load_seconds,
              geoip.empty() ? "none (every client ZZ)" : geoip.c_str());

  const auto warm = MakeTraffic(n, false);
  const auto cold = MakeTraffic(n / 20, true);
  constexpr std::size_t kWindow = 100'000;
  std::uint64_t batch = 0;

  std::printf("\n%-58s %10s %12s %10s\n", "one thread", "events", "events/s", "us/event");
  auto report = [](const char* what, std::size_t events, const Run& run) {
    std::printf("%-58s %10zu %12.0f %10.2f\n", what, events, events / run.seconds,
                run.seconds * 1e6 / events);
  };
  {
    analytics::Aggregator aggregator(**parser, *geo, "bench-secret-0123456789");
    report("enrich + aggregate, cold UA cache (every UA new)", cold.size(),
           Pipeline(aggregator, cold, kWindow, nullptr, batch));
  }
  {
    analytics::Aggregator aggregator(**parser, *geo, "bench-secret-0123456789");
    Pipeline(aggregator, warm, kWindow, nullptr, batch);  // warms the UA cache and visitor memo
    report("enrich + aggregate, warm UA cache", warm.size(),
           Pipeline(aggregator, warm, kWindow, nullptr, batch));
  }
  {
    // The two halves of the Kafka pipeline: what serve's publisher thread does per click
    // (visitor id, GeoIP, JSON), and what kurz worker does per message (parse, enrich,
    // aggregate) before its stores.
    analytics::VisitorHasher visitors("bench-secret-0123456789");
    analytics::ClickMessage message;
    std::vector<std::string> encoded(warm.size());
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < warm.size(); ++i) {
      analytics::MessageOf(warm[i], visitors, *geo, message);
      analytics::EncodeClickMessage(message, encoded[i]);
    }
    report("publisher: visitor id + GeoIP + JSON message", warm.size(),
           Run{Seconds(std::chrono::steady_clock::now() - start), 0});
    analytics::Aggregator aggregator(**parser, *geo, "");
    Run decode;
    const auto decode_start = std::chrono::steady_clock::now();
    for (const std::string& json : encoded) {
      if (!analytics::DecodeClickMessage(json, message)) std::fprintf(stderr, "bad message\n");
    }
    decode.seconds = Seconds(std::chrono::steady_clock::now() - decode_start);
    report("worker: parse JSON message", encoded.size(), decode);
    Run worker;
    for (int pass = 0; pass < 2; ++pass) {  // the first pass warms the UA cache
      const auto worker_start = std::chrono::steady_clock::now();
      for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (!analytics::DecodeClickMessage(encoded[i], message)) continue;
        aggregator.Add(message);
        if ((i + 1) % kWindow == 0) worker.deltas += aggregator.Take().size();
      }
      worker.seconds = Seconds(std::chrono::steady_clock::now() - worker_start);
    }
    report("worker: parse + enrich + aggregate, warm", encoded.size(), worker);
  }
  {
    const auto dir = std::filesystem::temp_directory_path() / "kurz-analytics-bench";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto db = adapters::sqlite::SqliteDatabase::Open((dir / "kurz.db").string());
    if (!db || !(*db)->Migrate()) {
      std::fprintf(stderr, "cannot open the benchmark database in %s\n", dir.c_str());
      return 1;
    }
    adapters::sqlite::SqliteClickStore store(**db);
    analytics::Aggregator aggregator(**parser, *geo, "bench-secret-0123456789");
    Pipeline(aggregator, warm, kWindow, nullptr, batch);
    const Run run = Pipeline(aggregator, warm, kWindow, &store, batch);
    report("enrich + aggregate + SQLite Apply per window, warm", warm.size(), run);
    std::printf("  (%zu (code, day) rows written in %zu windows)\n", run.deltas,
                (warm.size() + kWindow - 1) / kWindow);
    std::filesystem::remove_all(dir);
  }
  return 0;
}
