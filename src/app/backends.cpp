#include "app/backends.hpp"

#include <cstdio>
#include <filesystem>
#include <span>
#include <string_view>

#include "adapters/clickhouse/open.hpp"
#include "adapters/kafka/open.hpp"
#include "adapters/memory/open.hpp"
#include "adapters/postgres/open.hpp"
#include "adapters/redis/open.hpp"
#include "adapters/routing/read_routing.hpp"
#include "adapters/sqlite/open.hpp"

namespace kurz::app {
namespace {

using adapters::CacheOptions;
using adapters::DatabaseOptions;
using adapters::EventOptions;

template <class Fn>
struct Opener {
  std::string_view scheme;
  Fn* open;
};

using OpenDatabaseFn = core::Result<adapters::Database>(std::string_view, const DatabaseOptions&);
using OpenCacheFn = core::Result<adapters::SharedTier>(std::string_view, const CacheOptions&);
using OpenSinkFn = core::Result<std::unique_ptr<ports::EventSink>>(std::string_view,
                                                                   const EventOptions&);
using OpenSourceFn = core::Result<std::unique_ptr<ports::ClickSource>>(std::string_view,
                                                                       const EventOptions&);
using OpenRawFn = core::Result<std::unique_ptr<ports::RawClickStore>>(std::string_view);

core::Result<std::unique_ptr<ports::EventSink>> NoEventSink(std::string_view /*url*/,
                                                            const EventOptions& /*options*/) {
  return std::unique_ptr<ports::EventSink>();  // clicks stay in process
}

constexpr Opener<OpenDatabaseFn> kDatabases[] = {
    {"sqlite", &adapters::sqlite::Open},
    {"postgres", &adapters::postgres::Open},
    {"postgresql", &adapters::postgres::Open},
    {"memory", &adapters::memory::OpenDatabase},
};
constexpr Opener<OpenCacheFn> kCaches[] = {
    {"memory", &adapters::memory::OpenSharedTier},
    {"redis", &adapters::redis::Open},
    {"redis-cluster", &adapters::redis::Open},
};
constexpr Opener<OpenSinkFn> kEventSinks[] = {
    {"memory", &NoEventSink},
    {"kafka", &adapters::kafka::OpenEventSink},
};
// What kurz serve checks of an --events URL before it opens anything, by scheme.
using CheckFn = core::Result<void>(std::string_view);
core::Result<void> NothingToCheck(std::string_view /*url*/) { return {}; }
constexpr Opener<CheckFn> kEventChecks[] = {
    {"memory", &NothingToCheck},
    {"kafka", &adapters::kafka::CheckUrl},
};
constexpr Opener<OpenSourceFn> kClickSources[] = {
    {"kafka", &adapters::kafka::OpenClickSource},
};
constexpr Opener<OpenRawFn> kRawClickStores[] = {
    {"clickhouse", &adapters::clickhouse::Open},
};

// The opener of `url`'s scheme; `what` names the role in the message for an unknown one.
template <class Fn>
core::Result<Fn*> Find(std::span<const Opener<Fn>> table, const std::string& url,
                       std::string_view what) {
  auto parsed = ParseBackendUrl(url);
  if (!parsed) return std::unexpected(parsed.error());
  std::string known;
  for (const Opener<Fn>& opener : table) {
    if (opener.scheme == parsed->scheme) return opener.open;
    known += (known.empty() ? "" : ", ") + std::string(opener.scheme);
  }
  return core::Fail(
      core::ErrorCode::kInvalidArgument,
      "unknown " + std::string(what) + " scheme '" + parsed->scheme + "' (known: " + known + ")");
}

// The replicas' stores and the routing stores over them and the primary's.
struct ReplicaBundle {
  std::shared_ptr<void> primary;  // the primary's bundle, whose stores the routing stores use
  std::vector<adapters::postgres::Replica> replicas;
  std::unique_ptr<adapters::routing::ReplicaSet> set;
  std::unique_ptr<adapters::routing::ReadRoutingLinkStore> routed_links;
  std::unique_ptr<adapters::routing::ReadRoutingStatsStore> routed_stats;
};

// libpq's messages span lines ("...refused\n\tIs the server running..."): one line for logs.
std::string OneLine(std::string_view text) {
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
  names.reserve(set.size());
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

std::string DatabaseUrl(const std::string& data_dir, const std::string& database) {
  if (!database.empty()) return database;
  return "sqlite://" + (std::filesystem::path(data_dir) / "kurz.db").string();
}

core::Result<Backends> OpenDatabase(const std::string& url, const DatabaseOptions& options) {
  auto open = Find<OpenDatabaseFn>(kDatabases, url, "database");
  if (!open) return std::unexpected(open.error());
  auto db = (**open)(url, options);
  if (!db) return std::unexpected(db.error());
  Backends backends;
  static_cast<adapters::Database&>(backends) = std::move(*db);
  return backends;
}

core::Result<void> AddReadReplicas(Backends& backends, const std::vector<std::string>& urls) {
  auto bundle = std::make_shared<ReplicaBundle>();
  bundle->set = std::make_unique<adapters::routing::ReplicaSet>(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto replica = adapters::postgres::OpenReplica(urls[i], DatabaseOptions{});
    if (!replica) return std::unexpected(replica.error());
    if (auto ok = replica->ping(); !ok) {
      bundle->set->MarkDown(i);
      std::fprintf(stderr,
                   "kurz: replica-%zu %s is not reachable (%s); its reads go to the others and the "
                   "primary until it answers\n",
                   i + 1, replica->description.c_str(), OneLine(ok.error().detail).c_str());
    }
    bundle->replicas.push_back(std::move(*replica));
  }
  std::vector<ports::LinkStore*> links;
  std::vector<ports::StatsStore*> stats;
  for (const auto& replica : bundle->replicas) {
    links.push_back(replica.links);
    stats.push_back(replica.stats);
  }
  bundle->routed_links = std::make_unique<adapters::routing::ReadRoutingLinkStore>(
      *backends.links, std::move(links), *bundle->set);
  bundle->routed_stats = std::make_unique<adapters::routing::ReadRoutingStatsStore>(
      *backends.stats, std::move(stats), *bundle->set);
  bundle->primary = std::move(backends.owner);

  backends.links = bundle->routed_links.get();
  backends.stats = bundle->routed_stats.get();
  backends.description += " + " + std::to_string(urls.size()) + " read replica(s)";
  for (std::size_t i = 0; i < bundle->replicas.size(); ++i) {
    backends.replica_checks.emplace_back([name = "replica-" + std::to_string(i + 1),
                                          ping = bundle->replicas[i].ping, set = bundle->set.get(),
                                          i] {
      auto ok = ping();
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

core::Result<SharedBackends> OpenSharedTier(const std::string& url, const CacheOptions& options) {
  auto open = Find<OpenCacheFn>(kCaches, url, "--cache");
  if (!open) return std::unexpected(open.error());
  return (**open)(url, options);
}

core::Result<void> CheckEventsUrl(const std::string& url) {
  if (url == "memory") return {};
  auto check = Find<CheckFn>(kEventChecks, url, "--events");
  if (!check) {
    return core::Fail(core::ErrorCode::kInvalidArgument,
                      "--events '" + url +
                          "' is not known (memory:// or kafka://host:port[,host:port...]/topic)");
  }
  if (auto ok = (**check)(url); !ok) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "--events: " + ok.error().detail);
  }
  return {};
}

core::Result<std::unique_ptr<ports::EventSink>> OpenEventSink(const std::string& url,
                                                              const EventOptions& options) {
  if (url == "memory") return std::unique_ptr<ports::EventSink>();
  auto open = Find<OpenSinkFn>(kEventSinks, url, "--events");
  if (!open) return std::unexpected(open.error());
  return (**open)(url, options);
}

core::Result<std::unique_ptr<ports::ClickSource>> OpenClickSource(const std::string& url,
                                                                  const EventOptions& options) {
  auto open = Find<OpenSourceFn>(kClickSources, url, "--events");
  if (!open) return std::unexpected(open.error());
  return (**open)(url, options);
}

core::Result<std::unique_ptr<ports::RawClickStore>> OpenRawClickStore(const std::string& url) {
  auto open = Find<OpenRawFn>(kRawClickStores, url, "--analytics");
  if (!open) return std::unexpected(open.error());
  return (**open)(url);
}

}  // namespace kurz::app
