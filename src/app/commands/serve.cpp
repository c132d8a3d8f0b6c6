// `kurz serve`: the link service. Serve() builds the components in order (storage, keys and
// secrets, the shared tier, the click pipeline, the link service, the API, the server), runs the
// server until SIGTERM/SIGINT and stops them in reverse.

#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/argon2/argon2_hasher.hpp"
#include "adapters/geoip/maxmind_locator.hpp"
#include "adapters/geoip/no_geo_locator.hpp"
#include "adapters/qr/qrcodegen_encoder.hpp"
#include "adapters/uap/uap_parser.hpp"
#include "analytics/aggregator.hpp"
#include "app/backends.hpp"
#include "app/commands/command.hpp"
#include "app/config.hpp"
#include "app/signals.hpp"
#include "core/code_scrambler.hpp"
#include "core/metrics_writer.hpp"
#include "core/targeting.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/worker_pool.hpp"
#include "service/account_service.hpp"
#include "service/click_drain.hpp"
#include "service/click_queue.hpp"
#include "service/code_allocator.hpp"
#include "service/crypto.hpp"
#include "service/event_publisher.hpp"
#include "service/link_service.hpp"
#include "service/redirect_cache.hpp"

namespace kurz::app {
namespace {

constexpr std::uint64_t kCodeBlockSize = 1000;
constexpr core::Micros kNegativeCacheTtl = 2 * core::kMicrosPerSecond;

constexpr const char* kServeHelp = R"(Usage: kurz serve [flags]

Runs the link service. With no flags: SQLite under ./kurz-data, in-process cache and click
pipeline, listening on 127.0.0.1:8080. On an empty database it creates the admin user and prints
its API key once.

Flags (each also as KURZ_<FLAG>):
  --listen HOST:PORT          address to listen on (default 127.0.0.1:8080; port 0 picks one)
  --data DIR                  data directory for the embedded database (default ./kurz-data)
  --base-url URL              public address of short links (default http://<listen>)
  --database URL              sqlite:///path/kurz.db (default: DIR/kurz.db),
                              postgres://user:pass@host:port/db (libpq URL, multi-host and
                              target_session_attrs=read-write allowed) or memory://
  --database-replicas URL,... read replicas of a postgres --database (postgres:// URLs, comma
                              separated): redirect misses, lists and stats read from them,
                              and from the primary while none answers
  --cache URL                 memory:// (in-process only, the default), redis://host:port[/db]
                              or redis-cluster://h1:p1,h2:p2,...: a cache shared by every
                              instance, cross-instance invalidation and API rate limits
  --cache-namespace NAME      prefix of the shared cache's keys and channels (default kurz)
  --events URL                memory:// (default: clicks counted in process, into the
                              database) or kafka://host:port[,host:port...]/topic: clicks
                              published to Kafka for 'kurz worker' (key = short code)
  --spool-dir DIR             where click events wait while Kafka is unreachable, replayed
                              when it is back (default DIR/spool under --data)
  --spool-max-bytes N         size cap of the spool; events beyond it are dropped and counted
                              in /metrics (default 1073741824)
  --bootstrap-key KEY         the admin key to create on an empty database (16-200 characters)
  --rate-limit-api N          API requests per second per API key, burst N (default 100; 0 = off)
  --rate-limit-redirect N     redirects per second per client IP, burst N (default 0 = off)
  --threads N                 event loop threads (default: number of cores)
  --workers N                 threads for blocking work such as database calls (default 16)
  --cache-size N              redirect cache entries (default 1000000; 0 = no cache)
  --click-queue N             click events held in memory before drops (default 65536)
  --geoip FILE.mmdb           MaxMind-format GeoIP database (GeoLite2, DB-IP, ...) for the
                              countries and cities of clicks (default: none, country "ZZ")
  --uap-regexes FILE          uap-core regexes.yaml for user agents, browsers and bots
                              (default /usr/share/uap-core/regexes.yaml)
  --trusted-proxies CIDR,...  proxies / load balancers whose X-Forwarded-For is believed: the
                              client is the right-most address not in these ranges
  --well-known-dir DIR        serves DIR/apple-app-site-association and DIR/assetlinks.json
                              at /.well-known/ (iOS universal links, Android App Links)
  --ip-salt-secret SECRET     key of the daily visitor hashes (16+ characters; default: a
                              random one kept in the database). Instances sharing a database
                              share the stored one; set it to share it across databases.
)";

// The app-link documents of --well-known-dir: each file may be missing (then 404), but one that
// is there must be a JSON document of at most 128 KiB (what Apple's CDN accepts).
core::Result<std::pair<std::string, std::string>> LoadWellKnown(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--well-known-dir " + dir + ": not a directory");
  }
  std::pair<std::string, std::string> out;
  for (auto [name, text] : {std::pair{"apple-app-site-association", &out.first},
                            std::pair{"assetlinks.json", &out.second}}) {
    const std::filesystem::path path = std::filesystem::path(dir) / name;
    if (!std::filesystem::exists(path, ec)) continue;
    std::ifstream in(path, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "cannot read " + path.string());
    }
    if (body.size() > std::size_t{128} * 1024 || !nlohmann::json::accept(body)) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        path.string() + ": not a JSON document of at most 128 KiB");
    }
    *text = std::move(body);
  }
  return out;
}

// The scrambler key lives with the data: the same key forever, created at first start.
core::Result<core::CodeScrambler> LoadScrambler(ports::SettingsStore& settings) {
  std::array<std::byte, 32> fresh{};
  if (!service::RandomBytes(fresh)) {
    return core::Fail(core::ErrorCode::kInternal, "the random generator failed");
  }
  auto stored = settings.GetOrInsert(
      "code_scrambler_key",
      service::ToHex(std::string_view(reinterpret_cast<const char*>(fresh.data()), fresh.size())));
  if (!stored) return std::unexpected(stored.error());
  if (stored->size() != 64) {
    return core::Fail(core::ErrorCode::kInternal, "the stored code scrambler key is damaged");
  }
  core::CodeScrambler::Key key{};
  for (std::size_t i = 0; i < 4; ++i) {
    key[i] = std::stoull(stored->substr(i * 16, 16), nullptr, 16);
  }
  return core::CodeScrambler(key);
}

core::Result<std::string> LoadSecret(ports::SettingsStore& settings, const std::string& name) {
  return settings.GetOrInsert(name, service::RandomBase62(43));
}

// The port --listen names; for port 0 the one the kernel picks now, so the base URL (and with
// it the API) is known before the server is built. The server's own bind checks the address
// the same way (bind without SO_REUSEPORT, then its acceptors).
core::Result<std::uint16_t> ListenPort(const std::string& host, std::uint16_t port) {
  if (port != 0) return port;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), "0", &hints, &found); rc != 0 || !found) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "cannot resolve listen host " + host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  const int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0) return core::Fail(core::ErrorCode::kUnavailable, std::strerror(errno));
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size) != 0) {
    const int err = errno;
    close(fd);
    return core::Fail(core::ErrorCode::kUnavailable, std::strerror(err));
  }
  close(fd);
  const std::uint16_t picked = bound.ss_family == AF_INET6
                                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                   : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return picked;
}

// Parses user agents (for the embedded pipeline, and for click budgets, which bots never use up)
// and locates clients.
struct ClickEnrichment {
  std::unique_ptr<adapters::uap::UapParser> user_agents;
  std::unique_ptr<ports::GeoLocator> geo;
};
core::Result<ClickEnrichment> LoadClickEnrichment(const ServeConfig& config, bool parse_agents) {
  ClickEnrichment out;
  if (parse_agents) {
    auto loaded = adapters::uap::UapParser::Load(config.uap_regexes);
    if (!loaded) {
      return core::Fail(
          core::ErrorCode::kInvalidArgument,
          "cannot load --uap-regexes " + config.uap_regexes + ": " + loaded.error().detail);
    }
    out.user_agents = std::move(*loaded);
  }
  out.geo = std::make_unique<adapters::geoip::NoGeoLocator>();
  if (!config.geoip.empty()) {
    auto opened = adapters::geoip::MaxMindLocator::Open(config.geoip);
    if (!opened) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "cannot open --geoip " + config.geoip + ": " + opened.error().detail);
    }
    out.geo = std::move(*opened);
  }
  return out;
}

// Keeps this instance's L1 in step with the others: drops what the bus says changed, and
// reloads which users are suspended whenever the bus may have missed a change.
void FollowInvalidations(SharedBackends& shared, service::RedirectCache& cache,
                         service::AccountService& accounts, service::SuspendedOwners& suspended) {
  if (shared.bus == nullptr) return;
  const auto reload_suspended = [&accounts, &suspended] {
    auto ids = accounts.SuspendedUserIds();
    if (ids) {
      suspended.Replace(*ids);
    } else {
      std::fprintf(stderr, "kurz: cannot reload the suspended users: %s\n",
                   ids.error().detail.c_str());
    }
  };
  reload_suspended();
  auto subscribed = shared.bus->Subscribe([&cache, reload_suspended](const auto& message) {
    if (message.lost || message.code == service::kFlushAll) {
      // The set first: a miss between a clear and the reload would fill the L1 with the old
      // answer for good; one that read the old set before the clear has its fill refused.
      reload_suspended();
      cache.Clear();
    } else {
      cache.Invalidate(message.code);
    }
  });
  if (!subscribed) {
    std::fprintf(stderr, "kurz: cache %s is not reachable yet (%s); serving without it, retrying\n",
                 shared.description.c_str(), subscribed.error().detail.c_str());
  }
}

// The click pipeline: to the click-events stream (visitor ids and locations computed here), or
// through the embedded pipeline into the database.
struct ClickPipeline {
  std::optional<analytics::Aggregator> aggregator;
  std::optional<service::ClickDrain> drain;
  std::optional<service::EventPublisher> publisher;

  void Start() {
    if (drain) drain->Start();
    if (publisher) publisher->Start();
  }
  void Stop() {
    if (drain) drain->Stop();          // stores every click still queued
    if (publisher) publisher->Stop();  // publishes them (acknowledged or spooled)
  }
};

using Check = std::function<std::pair<std::string, std::string>()>;

Check PingCheck(std::string name, std::function<core::Result<void>()> ping) {
  return [name = std::move(name), ping = std::move(ping)] {
    auto ok = ping();
    return std::make_pair(name, ok ? std::string("ok") : "down: " + ok.error().detail);
  };
}

void AppendEventMetrics(const ports::EventSinkStats& s, core::MetricsWriter& w) {
  w.Counter("kurz_events_published_total", "Click events handed to the stream.",
            static_cast<double>(s.published));
  w.Counter("kurz_events_delivered_total",
            "Click events acknowledged by the Kafka cluster (acks=all).",
            static_cast<double>(s.delivered));
  w.Counter("kurz_events_spooled_total",
            "Click events written to the on-disk spool while the cluster was unreachable.",
            static_cast<double>(s.spooled));
  w.Counter("kurz_events_replayed_total", "Spooled click events sent again and acknowledged.",
            static_cast<double>(s.replayed));
  w.Counter("kurz_events_dropped_total",
            "Click events lost because the spool was full or could not be written.",
            static_cast<double>(s.dropped));
  w.Gauge("kurz_events_spool_bytes", "Bytes in the on-disk spool.",
          static_cast<double>(s.spool_bytes));
  w.Gauge("kurz_events_queued", "Click events in memory not acknowledged yet.",
          static_cast<double>(s.queued));
  w.Gauge("kurz_events_connected", "1 when a Kafka broker is reachable.", s.connected ? 1.0 : 0.0);
}

void AppendDrainMetrics(const service::ClickDrain& drain, core::MetricsWriter& w) {
  w.Counter("kurz_click_events_stored_total", "Click events counted in the database.",
            static_cast<double>(drain.stored()));
  w.Counter("kurz_click_store_errors_total",
            "Failed attempts to store a batch of click events (retried).",
            static_cast<double>(drain.store_errors()));
  w.Gauge("kurz_click_events_pending",
          "Click events taken from the queue and not yet stored (the open window).",
          static_cast<double>(drain.pending()));
  w.Counter("kurz_click_events_lost_total",
            "Click events given up on at shutdown because storing kept failing.",
            static_cast<double>(drain.lost()));
}

}  // namespace

int Serve(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2)) {
    std::fputs(kServeHelp, stdout);
    return 0;
  }
  auto flags = Flags::Parse(argc, argv, 2, ServeFlagNames());
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  auto config = LoadServeConfig(*flags);
  if (!config) return Fail(config.error().detail, kExitUsage);
  if (auto ok = CheckEventsUrl(config->events); !ok) return Fail(ok.error().detail, kExitUsage);

  const sigset_t signals = BlockStopSignals();
  SystemClock clock;

  // 1. Storage: the database (migrated) and its read replicas.
  adapters::DatabaseOptions database_options;
  database_options.clock = &clock;
  auto backends = OpenDatabase(DatabaseUrl(config->data_dir, config->database), database_options);
  if (!backends) return Fail("cannot open the database: " + backends.error().detail);
  if (!config->database_replicas.empty()) {
    if (auto added = AddReadReplicas(*backends, config->database_replicas); !added) {
      return Fail("--database-replicas: " + added.error().detail, kExitUsage);
    }
  }

  // 2. The keys kept with the data.
  auto scrambler = LoadScrambler(*backends->settings);
  if (!scrambler) return Fail("cannot load the code key: " + scrambler.error().detail);
  const std::optional<std::string>& salt_secret = config->ip_salt_secret;
  auto ip_secret = salt_secret ? core::Result<std::string>(*salt_secret)
                               : LoadSecret(*backends->settings, "ip_hash_secret");
  if (!ip_secret) return Fail("cannot load the IP hashing secret: " + ip_secret.error().detail);

  // 3. The click-events stream and what enriches clicks.
  adapters::EventOptions event_options;
  event_options.spool_dir = config->spool_dir.empty()
                                ? std::filesystem::path(config->data_dir) / "spool"
                                : std::filesystem::path(config->spool_dir);
  event_options.spool_max_bytes = static_cast<std::uint64_t>(config->spool_max_bytes);
  auto sink = OpenEventSink(config->events, event_options);
  if (!sink) return Fail("--events: " + sink.error().detail, kExitUsage);
  auto enrichment = LoadClickEnrichment(*config, /*parse_agents=*/true);
  if (!enrichment) return Fail(enrichment.error().detail, kExitUsage);

  // 4. The shared tier, and the caches and accounts that follow it.
  auto shared = OpenSharedTier(config->cache, adapters::CacheOptions{config->cache_namespace});
  if (!shared) return Fail("--cache: " + shared.error().detail, kExitUsage);
  service::RedirectCache cache(static_cast<std::size_t>(config->cache_size), kNegativeCacheTtl);
  service::CodeAllocator codes(*backends->links, *scrambler, kCodeBlockSize);
  service::SuspendedOwners suspended;
  const service::SharedTier tier{shared->cache, shared->bus,
                                 shared->cache != nullptr ? &suspended : nullptr};
  service::AccountService accounts(*backends->accounts, cache, clock, tier);
  // The bus's thread calls into the cache and the account service: stop it before they go.
  struct StopSharedTier {
    SharedBackends& tier;
    ~StopSharedTier() { tier.owner.reset(); }
  } stop_shared_tier{*shared};
  FollowInvalidations(*shared, cache, accounts, suspended);

  // 5. The admin user of an empty database.
  auto bootstrap = accounts.Bootstrap(config->bootstrap_key);
  if (!bootstrap) return Fail("cannot create the admin user: " + bootstrap.error().detail);
  if (const std::optional<std::string>& created = *bootstrap; created && !config->bootstrap_key) {
    std::printf(
        "kurz: created the admin user admin@localhost. Its API key, shown only this once:\n"
        "  %s\n",
        created->c_str());
  }

  // 6. The click pipeline.
  std::array<std::byte, 8> prefix{};
  service::RandomBytes(prefix);
  const std::string process_id =
      service::ToHex(std::string_view(reinterpret_cast<const char*>(prefix.data()), prefix.size()));
  service::ClickQueue clicks(static_cast<std::size_t>(config->click_queue));
  ClickPipeline pipeline;
  if (*sink != nullptr) {
    pipeline.publisher.emplace(clicks, **sink, *enrichment->geo, *ip_secret);
  } else {
    pipeline.aggregator.emplace(*enrichment->user_agents, *enrichment->geo, *ip_secret);
    pipeline.drain.emplace(clicks, *backends->click_log, *pipeline.aggregator, process_id,
                           service::ClickDrain::Options{});
  }

  // 7. The address, the link service and the API.
  const int threads = config->threads > 0
                          ? config->threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::string listen_text = flags->Get("listen").value_or("127.0.0.1:8080");
  auto port = ListenPort(config->listen_host, config->listen_port);
  if (!port) return Fail("cannot listen on " + listen_text + ": " + port.error().detail);
  const std::string host_port =
      (config->listen_host.find(':') != std::string::npos ? "[" + config->listen_host + "]"
                                                          : config->listen_host) +
      ":" + std::to_string(*port);
  const std::string base_url = config->base_url.empty() ? "http://" + host_port : config->base_url;
  const std::string self_host = base_url.substr(base_url.find("://") + 3);
  service::LinkService links(*backends->links, codes, cache, clock, self_host, tier);
  adapters::argon2::Argon2Hasher passwords;  // link passwords: argon2id (decision 0009)
  links.SetPasswordHasher(&passwords);
  http::WorkerPool workers(config->workers, 10'000);
  http::WorkerPool lookups(threads, 10'000, "kurz-lookup");

  http::ApiOptions api_options;
  api_options.base_url = base_url;
  api_options.rate_limit_api = config->rate_limit_api;
  api_options.rate_limit_redirect = config->rate_limit_redirect;
  api_options.trusted_proxies = config->trusted_proxies;
  std::memcpy(&api_options.click_id_prefix, prefix.data(), prefix.size());
  api_options.sticky_secret = core::StickySecretOf(*ip_secret);
  if (!config->well_known_dir.empty()) {
    auto documents = LoadWellKnown(config->well_known_dir);
    if (!documents) return Fail(documents.error().detail, kExitUsage);
    api_options.apple_app_site_association = std::move(documents->first);
    api_options.assetlinks_json = std::move(documents->second);
  }

  http::ApiDeps deps{links, accounts, *backends->stats, cache, clicks, clock, workers, {}, nullptr};
  deps.user_agents = enrichment->user_agents.get();
  deps.geo = enrichment->geo.get();
  const adapters::qr::QrcodegenEncoder qr_encoder;
  deps.qr = &qr_encoder;
  deps.readiness.push_back(PingCheck("database", backends->ping));
  if (shared->ping) deps.readiness.push_back(PingCheck("cache", shared->ping));
  if (*sink != nullptr) {
    // Kafka unreachable costs nothing but the spool: the instance stays ready.
    deps.readiness.emplace_back([sink = sink->get()] {
      const ports::EventSinkStats s = sink->Stats();
      return std::make_pair(std::string("events"),
                            s.connected ? std::string("ok")
                                        : "degraded: kafka unreachable, spooling click events (" +
                                              std::to_string(s.spool_bytes) + " bytes)");
    });
    deps.realtime = shared->realtime;
  }
  for (const auto& check : backends->replica_checks) deps.readiness.push_back(check);
  deps.shared_limits = shared->limits;
  deps.passwords = &passwords;
  deps.shared_attempts = shared->attempts;
  deps.extra_metrics = [&pipeline, &links, sink = sink->get(),
                        replicas = backends->replica_metrics](core::MetricsWriter& w) {
    if (replicas) replicas(w);
    w.Counter("kurz_shared_cache_errors_total",
              "Calls to the shared cache or bus that failed; served without it.",
              static_cast<double>(links.shared_errors()));
    if (sink != nullptr) {
      AppendEventMetrics(sink->Stats(), w);
    } else {
      AppendDrainMetrics(*pipeline.drain, w);
    }
  };
  deps.lookups = &lookups;
  http::Api api(std::move(deps), api_options, threads);

  // 8. The server.
  http::ServerOptions server_options;
  server_options.host = config->listen_host;
  server_options.port = *port;
  server_options.threads = threads;
  // The largest body a route takes (POST /v1/urls/bulk); each route checks its own bound.
  server_options.max_body_bytes = http::kMaxRequestBody;
  http::Server server(server_options, api);
  if (auto bound = server.Listen(); !bound) {
    return Fail("cannot listen on " + listen_text + ": " + bound.error().detail);
  }

  pipeline.Start();
  std::thread signal_thread([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "kurz: %s received, finishing requests and flushing clicks\n",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Stop(std::chrono::milliseconds(5000));
  });
  std::fprintf(stderr, "kurz: database %s, cache %s, %d event loop thread(s), %d worker(s)\n",
               backends->description.c_str(),
               shared->description.empty() ? "in process" : shared->description.c_str(), threads,
               config->workers);
  std::printf("kurz listening on http://%s\n", host_port.c_str());
  std::fflush(stdout);

  server.Run();
  lookups.Stop();  // finishes deferred requests already queued
  workers.Stop();
  pipeline.Stop();
  if (signal_thread.joinable()) {
    // Wakes the sigwait above when Run ended on its own (SIGTERM is blocked in every thread).
    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread): the signal is blocked, it kills nothing
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  }
  std::fprintf(stderr, "kurz: stopped (%llu click events %s, %llu dropped from the queue)\n",
               static_cast<unsigned long long>(pipeline.drain ? pipeline.drain->stored()
                                                              : pipeline.publisher->published()),
               pipeline.drain ? "stored" : "published",
               static_cast<unsigned long long>(clicks.dropped()));
  return 0;
}

}  // namespace kurz::app
