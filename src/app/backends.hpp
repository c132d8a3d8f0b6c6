#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/config.hpp"
#include "core/error.hpp"
#include "core/metrics_writer.hpp"
#include "ports/account_store.hpp"
#include "ports/click_log.hpp"
#include "ports/click_source.hpp"
#include "ports/event_sink.hpp"
#include "ports/invalidation_bus.hpp"
#include "ports/link_store.hpp"
#include "ports/rate_limit_store.hpp"
#include "ports/raw_click_store.hpp"
#include "ports/realtime_counters.hpp"
#include "ports/settings_store.hpp"
#include "ports/shared_cache.hpp"

namespace kurz::app {

// The storage ports of one process, opened from the configured backend URL. The only place
// (with backends.cpp) that names concrete adapters.
struct Backends {
  std::shared_ptr<void> owner;  // keeps the database and adapters alive
  ports::LinkStore* links = nullptr;
  ports::AccountStore* accounts = nullptr;
  ports::SettingsStore* settings = nullptr;
  ports::ClickLog* click_log = nullptr;
  ports::StatsStore* stats = nullptr;
  std::string description;                   // for the start-up line (passwords redacted)
  std::function<core::Result<void>()> ping;  // readiness of the database
  // With read replicas (AddReadReplicas): one readiness check per replica, ("replica-1",
  // "ok" or "degraded: <why>"), and the read routing's counters as Prometheus text.
  std::vector<std::function<std::pair<std::string, std::string>()>> replica_checks;
  std::function<void(core::MetricsWriter&)> replica_metrics;
};

// What instances share besides the database, opened from --cache: nothing for memory:// (one
// instance: its L1 is enough), Redis for redis:// and redis-cluster://.
struct SharedBackends {
  std::shared_ptr<void> owner;
  ports::SharedCache* cache = nullptr;
  ports::InvalidationBus* bus = nullptr;
  ports::RateLimitStore* limits = nullptr;
  ports::RealtimeCounters* realtime = nullptr;  // click counters kurz worker keeps up to date
  std::string description;                      // for the start-up line (passwords redacted)
  std::function<core::Result<void>()> ping;     // null without a shared tier
};

// Opens the shared tier named by `url` with keys and channels under `name_space` ("kurz" gives
// "kurz:link:<code>", "kurz:invalidate", ...). Does not connect: Redis may come up later (calls
// fail fast until then, and everything works without it). invalid_argument for a bad URL.
core::Result<SharedBackends> OpenSharedTier(const std::string& url, const std::string& name_space);

// The database URL in effect: --database, or sqlite under --data.
std::string DatabaseUrl(const ServeConfig& config);

// Opens the database named by `url` (schemes: sqlite, memory), creating the data directory for
// SQLite, and runs its migrations when `migrate` is set. invalid_argument for unknown schemes
// (listing the known ones), unavailable when it cannot be opened.
core::Result<Backends> OpenBackends(const std::string& url, bool migrate, int* migrations_applied);

// Sends the reads of `backends` that tolerate replication lag (redirect misses, lists, stats) to
// the PostgreSQL read replicas at `urls`, round-robin, and to the primary when none can answer;
// everything else still goes to the primary. Replicas are not migrated. One that cannot be
// reached now is no error: a line on stderr says so, and it is used once it answers.
// invalid_argument for a malformed URL.
core::Result<void> AddReadReplicas(Backends& backends, const std::vector<std::string>& urls);

// The click-events stream `kurz serve --events kafka://…` publishes to; null for memory:// (the
// in-process pipeline). Events the cluster cannot take wait in a spool under spool_dir.
// invalid_argument for a bad URL, unavailable for an unusable spool directory.
core::Result<std::unique_ptr<ports::EventSink>> OpenEventSink(const ServeConfig& config);

// The worker's consumer-group member on its --events stream.
core::Result<std::unique_ptr<ports::ClickSource>> OpenClickSource(const WorkerConfig& config);

// The raw clicks table named by --analytics (clickhouse://host:port/db); not yet contacted.
core::Result<std::unique_ptr<ports::RawClickStore>> OpenRawClickStore(const std::string& url);

// Refuses backend URLs this build cannot serve (events, analytics).
core::Result<void> CheckAuxiliaryBackends(const ServeConfig& config);

}  // namespace kurz::app
