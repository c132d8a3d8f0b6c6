// kurz: one binary, several roles. `kurz serve` runs the link service; the other commands
// administer its database.

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/geoip/maxmind_locator.hpp"
#include "adapters/geoip/no_geo_locator.hpp"
#include "adapters/uap/uap_parser.hpp"
#include "analytics/aggregator.hpp"
#include "app/backends.hpp"
#include "app/config.hpp"
#include "app/signals.hpp"
#include "app/worker.hpp"
#include "core/account.hpp"
#include "core/base62.hpp"
#include "core/code_scrambler.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/worker_pool.hpp"
#include "ports/clock.hpp"
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

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;
constexpr std::uint64_t kCodeBlockSize = 1000;
constexpr core::Micros kNegativeCacheTtl = 2 * core::kMicrosPerSecond;

class SystemClock final : public ports::Clock {
 public:
  core::Micros Now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

int Fail(const std::string& message, int code = kExitFailure) {
  std::fprintf(stderr, "kurz: %s\n", message.c_str());
  return code;
}

constexpr const char* kMainHelp = R"(kurz - a fast, self-hosted URL shortener

Usage: kurz <command> [flags]

Commands:
  serve     run the link service (redirects, REST API)
  worker    consume the click-events stream into the analytics stores (cluster mode)
  migrate   create or upgrade the database schema
  keys      create, list or revoke API keys
  users     create, list, suspend or activate users

Run 'kurz <command> --help' for the flags of a command. Every flag can also be set in the
environment as KURZ_<FLAG> (e.g. KURZ_LISTEN=0.0.0.0:8080); a flag wins over the environment.
)";

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
  --analytics URL             sqlite (clicks stored in the database)
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
  --ip-salt-secret SECRET     key of the daily visitor hashes (16+ characters; default: a
                              random one kept in the database). Instances sharing a database
                              share the stored one; set it to share it across databases.
)";

constexpr const char* kMigrateHelp = R"(Usage: kurz migrate [--data DIR] [--database URL]

Creates or upgrades the database schema and exits. 'kurz serve' also does this at start.
)";

constexpr const char* kKeysHelp = R"(Usage:
  kurz keys create --user ID [--name NAME] [--permissions create,read,delete,admin]
  kurz keys list --user ID
  kurz keys revoke KEY_ID --user ID
Common flags: --data DIR, --database URL

Works directly on the database; the full key is printed once by 'create'.
)";

constexpr const char* kUsersHelp = R"(Usage:
  kurz users create --email EMAIL [--tier free|pro|enterprise]
  kurz users list
  kurz users suspend ID
  kurz users activate ID
Common flags: --data DIR, --database URL

Works directly on the database. 'create' prints the new user's first API key once.
A running server sees suspensions at the next request for API keys; its redirect cache keeps
serving the user's links until the cache entry is evicted, so prefer the HTTP API
(PATCH /v1/users/{id}) on a live system.
)";

bool WantsHelp(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  }
  return false;
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

int Serve(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2)) {
    std::fputs(kServeHelp, stdout);
    return 0;
  }
  auto flags = Flags::Parse(argc, argv, 2, ServeFlagNames());
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  auto config = LoadServeConfig(*flags);
  if (!config) return Fail(config.error().detail, kExitUsage);
  if (auto aux = CheckAuxiliaryBackends(*config); !aux) return Fail(aux.error().detail, kExitUsage);

  const sigset_t signals = BlockStopSignals();

  auto backends = OpenBackends(DatabaseUrl(*config), /*migrate=*/true, nullptr);
  if (!backends) return Fail("cannot open the database: " + backends.error().detail);
  if (!config->database_replicas.empty()) {
    if (auto added = AddReadReplicas(*backends, config->database_replicas); !added) {
      return Fail("--database-replicas: " + added.error().detail, kExitUsage);
    }
  }

  SystemClock clock;
  auto scrambler = LoadScrambler(*backends->settings);
  if (!scrambler) return Fail("cannot load the code key: " + scrambler.error().detail);
  auto ip_secret = config->ip_salt_secret ? core::Result<std::string>(*config->ip_salt_secret)
                                          : LoadSecret(*backends->settings, "ip_hash_secret");
  if (!ip_secret) return Fail("cannot load the IP hashing secret: " + ip_secret.error().detail);
  auto sink = OpenEventSink(*config);
  if (!sink) return Fail("--events: " + sink.error().detail, kExitUsage);
  // With a click-events stream the workers parse user agents; the embedded pipeline does here.
  std::unique_ptr<adapters::uap::UapParser> user_agents;
  if (*sink == nullptr) {
    auto loaded = adapters::uap::UapParser::Load(config->uap_regexes);
    if (!loaded) {
      return Fail("cannot load --uap-regexes " + config->uap_regexes + ": " + loaded.error().detail,
                  kExitUsage);
    }
    user_agents = std::move(*loaded);
  }
  std::unique_ptr<ports::GeoLocator> geo = std::make_unique<adapters::geoip::NoGeoLocator>();
  if (!config->geoip.empty()) {
    auto opened = adapters::geoip::MaxMindLocator::Open(config->geoip);
    if (!opened) {
      return Fail("cannot open --geoip " + config->geoip + ": " + opened.error().detail,
                  kExitUsage);
    }
    geo = std::move(*opened);
  }

  auto shared = OpenSharedTier(config->cache, config->cache_namespace);
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
  if (shared->bus != nullptr) {
    // Which users are suspended, now and whenever the bus may have missed a change.
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
    auto subscribed = shared->bus->Subscribe([&cache, reload_suspended](const auto& message) {
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
      std::fprintf(stderr,
                   "kurz: cache %s is not reachable yet (%s); serving without it, retrying\n",
                   shared->description.c_str(), subscribed.error().detail.c_str());
    }
  }

  auto bootstrap = accounts.Bootstrap(config->bootstrap_key);
  if (!bootstrap) return Fail("cannot create the admin user: " + bootstrap.error().detail);
  if (*bootstrap && !config->bootstrap_key) {
    std::printf(
        "kurz: created the admin user admin@localhost. Its API key, shown only this once:\n"
        "  %s\n",
        (*bootstrap)->c_str());
  }

  const int threads = config->threads > 0
                          ? config->threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  http::ServerOptions server_options;
  server_options.host = config->listen_host;
  server_options.port = config->listen_port;
  server_options.threads = threads;

  std::array<std::byte, 8> prefix{};
  service::RandomBytes(prefix);
  const std::string process_id =
      service::ToHex(std::string_view(reinterpret_cast<const char*>(prefix.data()), prefix.size()));
  service::ClickQueue clicks(static_cast<std::size_t>(config->click_queue));
  // Clicks go either to the click-events stream (visitor ids and locations computed here) or
  // through the embedded pipeline into the database.
  std::optional<analytics::Aggregator> aggregator;
  std::optional<service::ClickDrain> drain;
  std::optional<service::EventPublisher> publisher;
  if (*sink != nullptr) {
    publisher.emplace(clicks, **sink, *geo, *ip_secret);
  } else {
    aggregator.emplace(*user_agents, *geo, *ip_secret);
    drain.emplace(clicks, *backends->click_log, *aggregator, process_id,
                  service::ClickDrain::Options{});
  }
  http::WorkerPool workers(config->workers, 10'000);
  http::WorkerPool lookups(threads, 10'000, "kurz-lookup");

  // The base URL needs the bound port when --listen asked for port 0, so bind first.
  std::unique_ptr<http::Api> api;
  std::unique_ptr<service::LinkService> links;
  struct LateHandler final : http::Handler {
    http::Api* api = nullptr;
    void Handle(const http::Request& r, http::Responder& s) override { api->Handle(r, s); }
    void HandleProtocolError(int st, std::string_view c, std::string_view m,
                             http::Responder& s) override {
      api->HandleProtocolError(st, c, m, s);
    }
  } handler;
  http::Server server(server_options, handler);
  auto port = server.Listen();
  if (!port)
    return Fail("cannot listen on " + flags->Get("listen").value_or("127.0.0.1:8080") + ": " +
                port.error().detail);

  const std::string host_port =
      (config->listen_host.find(':') != std::string::npos ? "[" + config->listen_host + "]"
                                                          : config->listen_host) +
      ":" + std::to_string(*port);
  const std::string base_url = config->base_url.empty() ? "http://" + host_port : config->base_url;
  const std::string self_host = base_url.substr(base_url.find("://") + 3);
  links = std::make_unique<service::LinkService>(*backends->links, codes, cache, clock, self_host,
                                                 tier);

  http::ApiOptions api_options;
  api_options.base_url = base_url;
  api_options.rate_limit_api = config->rate_limit_api;
  api_options.rate_limit_redirect = config->rate_limit_redirect;
  api_options.trusted_proxies = config->trusted_proxies;
  std::memcpy(&api_options.click_id_prefix, prefix.data(), prefix.size());

  http::ApiDeps deps{*links,  accounts, *backends->stats, cache, clicks, clock,
                     workers, {},       nullptr};
  deps.readiness.push_back([ping = backends->ping] {
    auto ok = ping();
    return std::make_pair(std::string("database"),
                          ok ? std::string("ok") : "down: " + ok.error().detail);
  });
  if (shared->ping) {
    deps.readiness.push_back([ping = shared->ping] {
      auto ok = ping();
      return std::make_pair(std::string("cache"),
                            ok ? std::string("ok") : "down: " + ok.error().detail);
    });
  }
  if (*sink != nullptr) {
    // Kafka unreachable costs nothing but the spool: the instance stays ready.
    deps.readiness.push_back([sink = sink->get()] {
      const ports::EventSinkStats s = sink->Stats();
      return std::make_pair(std::string("events"),
                            s.connected ? std::string("ok")
                                        : "degraded: kafka unreachable, spooling click events (" +
                                              std::to_string(s.spool_bytes) + " bytes)");
    });
  }
  deps.shared_limits = shared->limits;
  if (*sink != nullptr) deps.realtime = shared->realtime;
  for (const auto& check : backends->replica_checks) deps.readiness.push_back(check);
  deps.extra_metrics = [&drain, &links, sink = sink->get(),
                        replicas = backends->replica_metrics](core::MetricsWriter& w) {
    if (replicas) replicas(w);
    w.Counter("kurz_shared_cache_errors_total",
              "Calls to the shared cache or bus that failed; served without it.",
              static_cast<double>(links->shared_errors()));
    if (sink != nullptr) {
      const ports::EventSinkStats s = sink->Stats();
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
      w.Gauge("kurz_events_connected", "1 when a Kafka broker is reachable.",
              s.connected ? 1.0 : 0.0);
      return;
    }
    w.Counter("kurz_click_events_stored_total", "Click events counted in the database.",
              static_cast<double>(drain->stored()));
    w.Counter("kurz_click_store_errors_total",
              "Failed attempts to store a batch of click events (retried).",
              static_cast<double>(drain->store_errors()));
    w.Gauge("kurz_click_events_pending",
            "Click events taken from the queue and not yet stored (the open window).",
            static_cast<double>(drain->pending()));
    w.Counter("kurz_click_events_lost_total",
              "Click events given up on at shutdown because storing kept failing.",
              static_cast<double>(drain->lost()));
  };
  deps.lookups = &lookups;
  api = std::make_unique<http::Api>(std::move(deps), api_options, threads);
  handler.api = api.get();

  if (drain) drain->Start();
  if (publisher) publisher->Start();
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
  if (drain) drain->Stop();          // stores every click still queued
  if (publisher) publisher->Stop();  // publishes them (acknowledged or spooled)
  if (signal_thread.joinable()) {
    pthread_kill(signal_thread.native_handle(), SIGTERM);  // wakes sigwait if Run ended alone
    signal_thread.join();
  }
  std::fprintf(stderr, "kurz: stopped (%llu click events %s, %llu dropped from the queue)\n",
               static_cast<unsigned long long>(drain ? drain->stored() : publisher->published()),
               drain ? "stored" : "published", static_cast<unsigned long long>(clicks.dropped()));
  return 0;
}

// The database flags the admin commands share.
std::vector<std::string> AdminFlags(std::vector<std::string> extra) {
  extra.push_back("data");
  extra.push_back("database");
  return extra;
}

core::Result<Backends> OpenForAdmin(const Flags& flags) {
  ServeConfig config;
  if (auto v = flags.Get("data")) config.data_dir = *v;
  if (auto v = flags.Get("database")) config.database = *v;
  return OpenBackends(DatabaseUrl(config), /*migrate=*/true, nullptr);
}

int Migrate(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2)) {
    std::fputs(kMigrateHelp, stdout);
    return 0;
  }
  auto flags = Flags::Parse(argc, argv, 2, AdminFlags({}));
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  if (!flags->positional().empty()) {
    return Fail("unexpected argument '" + flags->positional().front() + "'", kExitUsage);
  }
  ServeConfig config;
  if (auto v = flags->Get("data")) config.data_dir = *v;
  if (auto v = flags->Get("database")) config.database = *v;
  int applied = 0;
  auto backends = OpenBackends(DatabaseUrl(config), /*migrate=*/true, &applied);
  if (!backends) return Fail("cannot migrate: " + backends.error().detail);
  std::printf("kurz: %s is up to date (%d migration(s) applied)\n", backends->description.c_str(),
              applied);
  return 0;
}

core::Result<std::int64_t> RequiredId(const Flags& flags, const std::string& name) {
  auto v = flags.Get(name);
  if (!v) return core::Fail(core::ErrorCode::kInvalidArgument, "--" + name + " is required");
  return ParseIntFlag(name, *v, 1, INT64_MAX);
}

core::Result<core::Permissions> ParsePermissionList(const std::string& text) {
  core::Permissions perms = 0;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    auto p = core::ParsePermission(std::string_view(text).substr(start, comma - start));
    if (!p) return std::unexpected(p.error());
    perms |= *p;
    if (comma == std::string::npos) return perms;
    start = comma + 1;
  }
}

int Keys(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2) || argc < 3) {
    std::fputs(kKeysHelp, argc < 3 ? stderr : stdout);
    return argc < 3 ? kExitUsage : 0;
  }
  const std::string action = argv[2];
  auto flags = Flags::Parse(argc, argv, 3, AdminFlags({"user", "name", "permissions"}));
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  auto user = RequiredId(*flags, "user");
  if (!user) return Fail(user.error().detail, kExitUsage);
  if (action != "create" && action != "list" && action != "revoke") {
    return Fail("unknown keys action '" + action + "' (create, list, revoke)", kExitUsage);
  }
  auto backends = OpenForAdmin(*flags);
  if (!backends) return Fail("cannot open the database: " + backends.error().detail);
  SystemClock clock;
  service::RedirectCache cache(0, 0);
  service::AccountService accounts(*backends->accounts, cache, clock);
  auto owner = backends->accounts->FindUser(*user);
  if (!owner) return Fail("no user with id " + std::to_string(*user));
  // The CLI acts with the owner's full rights: it has the database file.
  service::Principal who{*user, 0, core::kAllPermissions};

  if (action == "create") {
    core::Permissions perms = core::kDefaultUserPermissions;
    if (auto p = flags->Get("permissions")) {
      auto parsed = ParsePermissionList(*p);
      if (!parsed) return Fail(parsed.error().detail, kExitUsage);
      perms = *parsed;
    }
    auto created = accounts.CreateKey(who, flags->Get("name").value_or(""), perms);
    if (!created) return Fail(created.error().detail);
    std::printf("created key %lld (prefix %s). The key, shown only this once:\n%s\n",
                static_cast<long long>(created->key.id), created->key.prefix.c_str(),
                created->secret.c_str());
    return 0;
  }
  if (action == "list") {
    auto keys = accounts.ListKeys(who);
    if (!keys) return Fail(keys.error().detail);
    std::printf("%-6s %-10s %-24s %-22s %s\n", "ID", "PREFIX", "NAME", "CREATED", "STATE");
    for (const core::ApiKey& k : *keys) {
      std::printf("%-6lld %-10s %-24s %-22s %s\n", static_cast<long long>(k.id), k.prefix.c_str(),
                  k.name.c_str(), core::FormatRfc3339(k.created_at).c_str(),
                  k.revoked_at ? "revoked" : "active");
    }
    return 0;
  }
  if (flags->positional().size() != 1) return Fail("keys revoke needs one KEY_ID", kExitUsage);
  auto id = ParseIntFlag("KEY_ID", flags->positional().front(), 1, INT64_MAX);
  if (!id) return Fail(id.error().detail, kExitUsage);
  auto revoked = accounts.RevokeKey(who, *id);
  if (!revoked) return Fail(revoked.error().detail);
  std::printf("revoked key %lld\n", static_cast<long long>(*id));
  return 0;
}

int Users(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2) || argc < 3) {
    std::fputs(kUsersHelp, argc < 3 ? stderr : stdout);
    return argc < 3 ? kExitUsage : 0;
  }
  const std::string action = argv[2];
  if (action != "create" && action != "list" && action != "suspend" && action != "activate") {
    return Fail("unknown users action '" + action + "' (create, list, suspend, activate)",
                kExitUsage);
  }
  auto flags = Flags::Parse(argc, argv, 3, AdminFlags({"email", "tier"}));
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  auto backends = OpenForAdmin(*flags);
  if (!backends) return Fail("cannot open the database: " + backends.error().detail);
  SystemClock clock;
  service::RedirectCache cache(0, 0);
  service::AccountService accounts(*backends->accounts, cache, clock);

  if (action == "create") {
    auto email = flags->Get("email");
    if (!email) return Fail("--email is required", kExitUsage);
    auto created = accounts.CreateUser(*email, flags->Get("tier").value_or("free"));
    if (!created) return Fail(created.error().detail);
    std::printf("created user %lld (%s). Its API key, shown only this once:\n%s\n",
                static_cast<long long>(created->user.id), created->user.email.c_str(),
                created->first_key.secret.c_str());
    return 0;
  }
  if (action == "list") {
    auto users = accounts.ListUsers();
    if (!users) return Fail(users.error().detail);
    std::printf("%-6s %-32s %-11s %-10s %s\n", "ID", "EMAIL", "TIER", "STATUS", "CREATED");
    for (const core::User& u : *users) {
      std::printf("%-6lld %-32s %-11s %-10s %s\n", static_cast<long long>(u.id), u.email.c_str(),
                  u.tier.c_str(), std::string(core::ToString(u.status)).c_str(),
                  core::FormatRfc3339(u.created_at).c_str());
    }
    return 0;
  }
  if (flags->positional().size() != 1) return Fail("users " + action + " needs one ID", kExitUsage);
  auto id = ParseIntFlag("ID", flags->positional().front(), 1, INT64_MAX);
  if (!id) return Fail(id.error().detail, kExitUsage);
  service::Principal cli{0, 0, core::kAllPermissions};
  auto user = accounts.SetUserStatus(
      cli, *id, action == "activate" ? core::UserStatus::kActive : core::UserStatus::kSuspended);
  if (!user) return Fail(user.error().detail);
  std::printf("user %lld is now %s\n", static_cast<long long>(user->id),
              std::string(core::ToString(user->status)).c_str());
  return 0;
}

}  // namespace
}  // namespace kurz::app

int main(int argc, char** argv) {
  using namespace kurz::app;
  if (argc < 2) {
    std::fputs(kMainHelp, stderr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kMainHelp, stdout);
    return 0;
  }
  if (command == "--version" || command == "version") {
    std::printf("kurz 0.1.0\n");
    return 0;
  }
  if (command == "serve") return Serve(argc, argv);
  if (command == "worker") return Worker(argc, argv);
  if (command == "migrate") return Migrate(argc, argv);
  if (command == "keys") return Keys(argc, argv);
  if (command == "users") return Users(argc, argv);
  return Fail(
      "unknown command '" + command + "' (serve, worker, migrate, keys, users; see kurz --help)",
      kExitUsage);
}
