#pragma once

// What a backend folder's open.hpp hands back: the ports one backend URL provides, kept alive
// by `owner`. app/ holds one scheme -> opener table per role (database, cache, events,
// analytics) over the `Open*` functions of each folder, and names no adapter class itself.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "ports/account_store.hpp"
#include "ports/attempt_counter.hpp"
#include "ports/click_log.hpp"
#include "ports/click_source.hpp"
#include "ports/clock.hpp"
#include "ports/event_sink.hpp"
#include "ports/invalidation_bus.hpp"
#include "ports/link_store.hpp"
#include "ports/rate_limit_store.hpp"
#include "ports/raw_click_store.hpp"
#include "ports/realtime_counters.hpp"
#include "ports/settings_store.hpp"
#include "ports/shared_cache.hpp"

namespace kurz::adapters {

struct DatabaseOptions {
  bool migrate = true;       // run the schema migrations (and create PostgreSQL's click partitions)
  int max_connections = 16;  // PostgreSQL: connections of this process
  const ports::Clock* clock = nullptr;  // the time rows are stamped with; null: the system clock
};

// The stores of one database (sqlite://, postgres://, memory://).
struct Database {
  std::shared_ptr<void> owner;  // keeps the database and its stores alive
  ports::LinkStore* links = nullptr;
  ports::AccountStore* accounts = nullptr;
  ports::SettingsStore* settings = nullptr;
  ports::ClickLog* click_log = nullptr;
  ports::StatsStore* stats = nullptr;
  std::string description;                   // for the start-up line (passwords redacted)
  std::function<core::Result<void>()> ping;  // readiness
  int migrations_applied = 0;
};

struct CacheOptions {
  // Prefix of keys and channels: "kurz" gives "kurz:link:<code>", "kurz:invalidate", ...
  std::string name_space = "kurz";
};

// What instances share besides the database (redis://, redis-cluster://; memory:// opens none:
// one instance's L1 is enough).
struct SharedTier {
  std::shared_ptr<void> owner;
  ports::SharedCache* cache = nullptr;
  ports::InvalidationBus* bus = nullptr;
  ports::RateLimitStore* limits = nullptr;
  ports::AttemptCounter* attempts = nullptr;    // wrong link passwords per client and link
  ports::RealtimeCounters* realtime = nullptr;  // click counters kurz worker keeps up to date
  std::string description;                      // for the start-up line (passwords redacted)
  std::function<core::Result<void>()> ping;     // null without a shared tier
};

struct EventOptions {
  // Producer (kurz serve): where events wait while the cluster is unreachable, and its cap.
  std::filesystem::path spool_dir;
  std::uint64_t spool_max_bytes = 1ULL << 30;
  // Consumer (kurz worker): the group and how long it waits for a silent member.
  std::string group = "kurz-analytics";
  std::chrono::milliseconds session_timeout{10'000};
};

}  // namespace kurz::adapters
