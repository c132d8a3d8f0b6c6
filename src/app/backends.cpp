#include "app/backends.hpp"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "adapters/clickhouse/raw_click_store.hpp"
#include "adapters/kafka/consumer.hpp"
#include "adapters/kafka/kafka_url.hpp"
#include "adapters/kafka/producer.hpp"
#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "adapters/memory/settings_store.hpp"
#include "adapters/postgres/account_store.hpp"
#include "adapters/postgres/click_store.hpp"
#include "adapters/postgres/database.hpp"
#include "adapters/postgres/link_store.hpp"
#include "adapters/postgres/settings_store.hpp"
#include "adapters/redis/client.hpp"
#include "adapters/redis/invalidation_bus.hpp"
#include "adapters/redis/rate_limit_store.hpp"
#include "adapters/redis/realtime_counters.hpp"
#include "adapters/redis/redis_url.hpp"
#include "adapters/redis/shared_cache.hpp"
#include "adapters/routing/read_routing.hpp"
#include "adapters/sqlite/account_store.hpp"
#include "adapters/sqlite/click_store.hpp"
#include "adapters/sqlite/database.hpp"
#include "adapters/sqlite/link_store.hpp"
#include "adapters/sqlite/settings_store.hpp"

namespace kurz::app {

namespace {

// Connections to PostgreSQL per instance: enough for the API workers and the redirect-miss pool
// of a small machine; the server's max_connections (100 by default) bounds instances times this.
constexpr int kPostgresConnections = 16;

struct MemoryBundle {
  adapters::memory::MemoryAccountStore accounts;
  adapters::memory::MemoryLinkStore links{accounts};
  adapters::memory::MemorySettingsStore settings;
  adapters::memory::MemoryClickStore clicks{links};
};

struct SqliteBundle {
  std::unique_ptr<adapters::sqlite::SqliteDatabase> db;
  std::unique_ptr<adapters::sqlite::SqliteLinkStore> links;
  std::unique_ptr<adapters::sqlite::SqliteAccountStore> accounts;
  std::unique_ptr<adapters::sqlite::SqliteSettingsStore> settings;
  std::unique_ptr<adapters::sqlite::SqliteClickStore> clicks;
};

core::Result<Backends> OpenSqlite(const BackendUrl& url, bool migrate, int* applied) {
  // sqlite:///abs/path.db or sqlite://relative/path.db
  const std::string path = url.rest;
  if (path.empty()) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "the sqlite URL needs a file path, e.g. sqlite:///var/lib/kurz/kurz.db");
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return core::Fail(core::ErrorCode::kUnavailable,
                        "cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  auto db = adapters::sqlite::SqliteDatabase::Open(path);
  if (!db) return std::unexpected(db.error());
  if (migrate) {
    auto n = (*db)->Migrate();
    if (!n) return std::unexpected(n.error());
    if (applied) *applied = *n;
  }
  auto bundle = std::make_shared<SqliteBundle>();
  bundle->db = std::move(*db);
  bundle->links = std::make_unique<adapters::sqlite::SqliteLinkStore>(*bundle->db);
  bundle->accounts = std::make_unique<adapters::sqlite::SqliteAccountStore>(*bundle->db);
  bundle->settings = std::make_unique<adapters::sqlite::SqliteSettingsStore>(*bundle->db);
  bundle->clicks = std::make_unique<adapters::sqlite::SqliteClickStore>(*bundle->db);
  Backends b;
  b.links = bundle->links.get();
  b.accounts = bundle->accounts.get();
  b.settings = bundle->settings.get();
  b.click_log = bundle->clicks.get();
  b.stats = bundle->clicks.get();
  b.description = "sqlite " + path;
  b.ping = [db = bundle->db.get()] { return db->Ping(); };
  b.owner = bundle;
  return b;
}

struct PostgresBundle {
  std::unique_ptr<adapters::postgres::PostgresDatabase> db;
  std::unique_ptr<adapters::postgres::PostgresLinkStore> links;
  std::unique_ptr<adapters::postgres::PostgresAccountStore> accounts;
  std::unique_ptr<adapters::postgres::PostgresSettingsStore> settings;
  std::unique_ptr<adapters::postgres::PostgresClickStore> clicks;
};

core::Result<Backends> OpenPostgres(const std::string& url, bool migrate, int* applied) {
  adapters::postgres::PostgresOptions options;
  options.max_connections = kPostgresConnections;
  auto db = adapters::postgres::PostgresDatabase::Open(url, options);
  if (!db) return std::unexpected(db.error());
  if (migrate) {
    auto n = (*db)->Migrate();  // also creates the click partitions ahead
    if (!n) return std::unexpected(n.error());
    if (applied) *applied = *n;
  }
  auto bundle = std::make_shared<PostgresBundle>();
  bundle->db = std::move(*db);
  bundle->links = std::make_unique<adapters::postgres::PostgresLinkStore>(*bundle->db);
  bundle->accounts = std::make_unique<adapters::postgres::PostgresAccountStore>(*bundle->db);
  bundle->settings = std::make_unique<adapters::postgres::PostgresSettingsStore>(*bundle->db);
  bundle->clicks = std::make_unique<adapters::postgres::PostgresClickStore>(*bundle->db);
  Backends b;
  b.links = bundle->links.get();
  b.accounts = bundle->accounts.get();
  b.settings = bundle->settings.get();
  b.click_log = bundle->clicks.get();
  b.stats = bundle->clicks.get();
  b.description = "postgres " + adapters::postgres::RedactUrl(url);
  b.ping = [db = bundle->db.get()] { return db->Ping(); };
  b.owner = bundle;
  return b;
}

core::Result<Backends> OpenMemory(int* applied) {
  auto bundle = std::make_shared<MemoryBundle>();
  Backends b;
  b.links = &bundle->links;
  b.accounts = &bundle->accounts;
  b.settings = &bundle->settings;
  b.click_log = &bundle->clicks;
  b.stats = &bundle->clicks;
  b.description = "memory (nothing is kept after exit)";
  b.ping = [] { return core::Result<void>{}; };
  b.owner = bundle;
  if (applied) *applied = 0;
  return b;
}

struct RedisBundle {
  std::unique_ptr<adapters::redis::RedisClient> client;
  std::unique_ptr<adapters::redis::RedisSharedCache> cache;
  std::unique_ptr<adapters::redis::RedisInvalidationBus> bus;
  std::unique_ptr<adapters::redis::RedisRateLimitStore> limits;
  std::unique_ptr<adapters::redis::RedisRealtimeCounters> realtime;
  ~RedisBundle() {
    bus.reset();  // stops its subscriber thread before the client goes
  }
};

// The replicas' databases and stores, and the routing stores over them and the primary's.
struct ReplicaBundle {
  std::shared_ptr<void> primary;  // the primary's bundle, whose stores the routing stores use
  std::vector<std::unique_ptr<adapters::postgres::PostgresDatabase>> dbs;
  std::vector<std::unique_ptr<adapters::postgres::PostgresLinkStore>> links;
  std::vector<std::unique_ptr<adapters::postgres::PostgresClickStore>> clicks;
  std::unique_ptr<adapters::routing::ReplicaSet> set;
  std::unique_ptr<adapters::routing::ReadRoutingLinkStore> routed_links;
  std::unique_ptr<adapters::routing::ReadRoutingStatsStore> routed_stats;
};

// libpq's messages span lines ("...refused\n\tIs the server running..."): one line for logs.
std::string OneLine(std::string text) {
  std::string out;
  for (char c : text) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void AppendReplicaMetrics(const adapters::routing::ReplicaSet& set, core::MetricsWriter& w) {
  using Type = core::MetricsWriter::Type;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < set.size(); ++i) names.push_back("replica-" + std::to_string(i + 1));
  w.Family("kurz_db_reads_total", Type::kCounter,
           "Reads routed over --database-replicas, by the server that answered.");
  w.Sample("kurz_db_reads_total", {{"target", "primary"}},
           static_cast<double>(set.primary_reads()));
  for (std::size_t i = 0; i < set.size(); ++i) {
    w.Sample("kurz_db_reads_total", {{"target", names[i]}},
             static_cast<double>(set.replica_reads(i)));
  }
  w.Family("kurz_db_replica_errors_total", Type::kCounter,
           "Reads a replica failed (the next replica or the primary answered them).");
  for (std::size_t i = 0; i < set.size(); ++i) {
    w.Sample("kurz_db_replica_errors_total", {{"replica", names[i]}},
             static_cast<double>(set.replica_errors(i)));
  }
  w.Family("kurz_db_replica_up", Type::kGauge,
           "1 while a replica takes reads, 0 while it is left out after failing (tried again "
           "after a second).");
  for (std::size_t i = 0; i < set.size(); ++i) {
    w.Sample("kurz_db_replica_up", {{"replica", names[i]}}, set.IsDown(i) ? 0 : 1);
  }
  w.Counter("kurz_db_replica_fallbacks_total",
            "Reads the primary answered because no replica could.",
            static_cast<double>(set.fallbacks()));
  w.Counter("kurz_db_replica_rechecks_total",
            "Links a replica did not find that were looked up again on the primary (replication "
            "lag).",
            static_cast<double>(set.rechecks()));
}

}  // namespace

core::Result<SharedBackends> OpenSharedTier(const std::string& text,
                                            const std::string& name_space) {
  auto url = ParseBackendUrl(text);
  if (!url) return std::unexpected(url.error());
  if (url->scheme == "memory") return SharedBackends{};
  if (url->scheme != "redis" && url->scheme != "redis-cluster") {
    return core::Fail(
        core::ErrorCode::kInvalidArgument,
        "unknown --cache scheme '" + url->scheme + "' (known: memory, redis, redis-cluster)");
  }
  auto client = adapters::redis::RedisClient::Open(text);
  if (!client) return std::unexpected(client.error());
  auto bundle = std::make_shared<RedisBundle>();
  bundle->client = std::move(*client);
  const std::string prefix = name_space + ":";
  bundle->cache = std::make_unique<adapters::redis::RedisSharedCache>(*bundle->client, prefix);
  bundle->bus = std::make_unique<adapters::redis::RedisInvalidationBus>(*bundle->client,
                                                                        prefix + "invalidate");
  bundle->limits = std::make_unique<adapters::redis::RedisRateLimitStore>(*bundle->client, prefix);
  bundle->realtime =
      std::make_unique<adapters::redis::RedisRealtimeCounters>(*bundle->client, prefix);
  SharedBackends b;
  b.cache = bundle->cache.get();
  b.bus = bundle->bus.get();
  b.limits = bundle->limits.get();
  b.realtime = bundle->realtime.get();
  b.description = adapters::redis::RedactRedisUrl(text);
  // Ready when Redis answers and the invalidation subscription is up (until it is, deletes made
  // on other instances do not reach this one's L1).
  b.ping = [client = bundle->client.get(), bus = bundle->bus.get()]() -> core::Result<void> {
    if (auto ok = client->Ping(); !ok) return ok;
    if (!bus->subscribed()) {
      return core::Fail(core::ErrorCode::kUnavailable, "invalidation subscription not up yet");
    }
    return {};
  };
  b.owner = bundle;
  return b;
}

std::string DatabaseUrl(const ServeConfig& config) {
  if (!config.database.empty()) return config.database;
  return "sqlite://" + (std::filesystem::path(config.data_dir) / "kurz.db").string();
}

core::Result<Backends> OpenBackends(const std::string& text, bool migrate, int* applied) {
  auto url = ParseBackendUrl(text);
  if (!url) return std::unexpected(url.error());
  if (url->scheme == "sqlite") return OpenSqlite(*url, migrate, applied);
  if (url->scheme == "memory") return OpenMemory(applied);
  if (url->scheme == "postgres" || url->scheme == "postgresql") {
    return OpenPostgres(text, migrate, applied);
  }
  return core::Fail(core::ErrorCode::kInvalidArgument, "unknown database scheme '" + url->scheme +
                                                           "' (known: sqlite, postgres, memory)");
}

core::Result<void> AddReadReplicas(Backends& backends, const std::vector<std::string>& urls) {
  auto bundle = std::make_shared<ReplicaBundle>();
  adapters::postgres::PostgresOptions options;
  options.max_connections = kPostgresConnections;
  options.connect_timeout_seconds = 2;  // libpq's least: a replica that hangs costs little
  options.connect_on_open = false;      // one that is down now is used once it is up
  bundle->set = std::make_unique<adapters::routing::ReplicaSet>(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto db = adapters::postgres::PostgresDatabase::Open(urls[i], options);
    if (!db) return std::unexpected(db.error());
    if (auto ok = (*db)->Ping(); !ok) {
      bundle->set->MarkDown(i);
      std::fprintf(stderr,
                   "kurz: replica-%zu %s is not reachable (%s); its reads go to the others and the "
                   "primary until it answers\n",
                   i + 1, adapters::postgres::RedactUrl(urls[i]).c_str(),
                   OneLine(ok.error().detail).c_str());
    }
    bundle->links.push_back(std::make_unique<adapters::postgres::PostgresLinkStore>(**db));
    bundle->clicks.push_back(std::make_unique<adapters::postgres::PostgresClickStore>(**db));
    bundle->dbs.push_back(std::move(*db));
  }
  std::vector<ports::LinkStore*> links;
  std::vector<ports::StatsStore*> stats;
  for (auto& store : bundle->links) links.push_back(store.get());
  for (auto& store : bundle->clicks) stats.push_back(store.get());
  bundle->routed_links = std::make_unique<adapters::routing::ReadRoutingLinkStore>(
      *backends.links, std::move(links), *bundle->set);
  bundle->routed_stats = std::make_unique<adapters::routing::ReadRoutingStatsStore>(
      *backends.stats, std::move(stats), *bundle->set);
  bundle->primary = std::move(backends.owner);

  backends.links = bundle->routed_links.get();
  backends.stats = bundle->routed_stats.get();
  backends.description += " + " + std::to_string(urls.size()) + " read replica(s)";
  for (std::size_t i = 0; i < bundle->dbs.size(); ++i) {
    backends.replica_checks.push_back([name = "replica-" + std::to_string(i + 1),
                                       db = bundle->dbs[i].get(), set = bundle->set.get(), i] {
      auto ok = db->Ping();
      if (ok) return std::make_pair(name, std::string("ok"));
      set->MarkDown(i);
      // Degraded, not down: the primary answers its reads meanwhile.
      return std::make_pair(name, "degraded: " + OneLine(ok.error().detail));
    });
  }
  backends.replica_metrics = [set = bundle->set.get()](core::MetricsWriter& out) {
    AppendReplicaMetrics(*set, out);
  };
  backends.owner = std::move(bundle);
  return {};
}

core::Result<void> CheckAuxiliaryBackends(const ServeConfig& config) {
  struct Aux {
    const char* flag;
    const std::string& value;
    const char* known;
  };
  if (config.events.starts_with("kafka://")) {
    if (auto url = adapters::kafka::ParseKafkaUrl(config.events); !url) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "--events: " + url.error().detail);
    }
  } else if (config.events != "memory://" && config.events != "memory") {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--events '" + config.events +
                          "' is not known (memory:// or kafka://host:port[,host:port...]/topic)");
  }
  if (config.analytics.starts_with("clickhouse://")) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--analytics clickhouse:// is written by kurz worker, not kurz serve (serve "
                      "reads the counts it stores in the database)");
  }
  const Aux aux[] = {{"--analytics", config.analytics, "sqlite"}};
  for (const Aux& a : aux) {
    if (a.value.empty()) continue;
    auto url = a.value.find("://") == std::string::npos && std::string(a.known) == "sqlite" &&
                       a.value == "sqlite"
                   ? core::Result<BackendUrl>(BackendUrl{"sqlite", "", a.value})
                   : ParseBackendUrl(a.value);
    if (!url) return std::unexpected(url.error());
    if (url->scheme != a.known) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        std::string(a.flag) + " '" + a.value +
                            "' is not available in this version (known: " + a.known + ")");
    }
  }
  return {};
}

core::Result<std::unique_ptr<ports::EventSink>> OpenEventSink(const ServeConfig& config) {
  if (!config.events.starts_with("kafka://")) return std::unique_ptr<ports::EventSink>();
  auto url = adapters::kafka::ParseKafkaUrl(config.events);
  if (!url) return std::unexpected(url.error());
  adapters::kafka::ProducerOptions options;
  options.brokers = url->brokers;
  options.topic = url->topic;
  options.spool_dir = config.spool_dir.empty() ? std::filesystem::path(config.data_dir) / "spool"
                                               : std::filesystem::path(config.spool_dir);
  options.spool_max_bytes = static_cast<std::uint64_t>(config.spool_max_bytes);
  auto sink = adapters::kafka::KafkaEventSink::Open(std::move(options));
  if (!sink) return std::unexpected(sink.error());
  return std::unique_ptr<ports::EventSink>(std::move(*sink));
}

core::Result<std::unique_ptr<ports::ClickSource>> OpenClickSource(const WorkerConfig& config) {
  auto url = adapters::kafka::ParseKafkaUrl(config.events);
  if (!url) return std::unexpected(url.error());
  adapters::kafka::ConsumerOptions options;
  options.brokers = url->brokers;
  options.topic = url->topic;
  options.group = config.group;
  options.session_timeout = std::chrono::milliseconds(config.session_timeout_ms);
  // Retry refused connections within a second (librdkafka's default backs off to 10 s), so a
  // worker resumes soon after the brokers are back.
  options.extra["reconnect.backoff.max.ms"] = "1000";
  options.heartbeat_interval =
      std::chrono::milliseconds(std::max<std::int64_t>(100, config.session_timeout_ms / 10));
  auto source = adapters::kafka::KafkaClickSource::Open(std::move(options));
  if (!source) return std::unexpected(source.error());
  return std::unique_ptr<ports::ClickSource>(std::move(*source));
}

core::Result<std::unique_ptr<ports::RawClickStore>> OpenRawClickStore(const std::string& text) {
  auto url = adapters::clickhouse::ParseClickHouseUrl(text);
  if (!url) return std::unexpected(url.error());
  auto store = adapters::clickhouse::ClickHouseRawClickStore::Open(*url);
  if (!store) return std::unexpected(store.error());
  return std::unique_ptr<ports::RawClickStore>(std::move(*store));
}

}  // namespace kurz::app
