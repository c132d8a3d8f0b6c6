#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapters/common/open.hpp"
#include "app/config.hpp"
#include "core/error.hpp"
#include "core/metrics_writer.hpp"

namespace kurz::app {

// The backends of one process, opened from the configured URLs through one scheme -> opener
// table per role (backends.cpp): the only place that names the adapter folders. An unknown
// scheme is invalid_argument, in one line listing the known ones.

// The database's stores, with the read replicas' checks once AddReadReplicas added them.
struct Backends : adapters::Database {
  // With read replicas: one readiness check per replica, ("replica-1", "ok" or
  // "degraded: <why>"), and the read routing's counters.
  std::vector<std::function<std::pair<std::string, std::string>()>> replica_checks;
  std::function<void(core::MetricsWriter&)> replica_metrics;
};
using SharedBackends = adapters::SharedTier;

// The database URL in effect: --database, or sqlite under --data.
std::string DatabaseUrl(const std::string& data_dir, const std::string& database);

// Opens the database named by `url` (sqlite, postgres, postgresql, memory) and runs its
// migrations when options.migrate is set; unavailable when it cannot be opened.
core::Result<Backends> OpenDatabase(const std::string& url,
                                    const adapters::DatabaseOptions& options);

// Sends the reads of `backends` that tolerate replication lag (redirect misses, lists, stats) to
// the PostgreSQL read replicas at `urls`, round-robin, and to the primary when none can answer;
// everything else still goes to the primary. Replicas are not migrated. One that cannot be
// reached now is no error: a line on stderr says so, and it is used once it answers.
// invalid_argument for a malformed URL.
core::Result<void> AddReadReplicas(Backends& backends, const std::vector<std::string>& urls);

// The shared tier named by --cache (memory: none; redis, redis-cluster). Does not connect.
core::Result<SharedBackends> OpenSharedTier(const std::string& url,
                                            const adapters::CacheOptions& options);

// Checks --events of kurz serve (memory:// or kafka://...) before anything is opened.
core::Result<void> CheckEventsUrl(const std::string& url);

// The click-events stream `kurz serve --events` publishes to; null for memory:// (the
// in-process pipeline).
core::Result<std::unique_ptr<ports::EventSink>> OpenEventSink(
    const std::string& url, const adapters::EventOptions& options);

// The worker's consumer-group member on its --events stream.
core::Result<std::unique_ptr<ports::ClickSource>> OpenClickSource(
    const std::string& url, const adapters::EventOptions& options);

// The raw clicks table named by the worker's --analytics; not yet contacted.
core::Result<std::unique_ptr<ports::RawClickStore>> OpenRawClickStore(const std::string& url);

}  // namespace kurz::app
