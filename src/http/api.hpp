#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ip.hpp"
#include "core/metrics_writer.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "http/worker_pool.hpp"
#include "ports/click_log.hpp"
#include "ports/clock.hpp"
#include "ports/qr_encoder.hpp"
#include "ports/rate_limit_store.hpp"
#include "ports/realtime_counters.hpp"
#include "service/account_service.hpp"
#include "service/click_queue.hpp"
#include "service/link_service.hpp"
#include "service/rate_limiter.hpp"
#include "service/redirect_cache.hpp"

namespace kurz::http {

struct ApiOptions {
  std::string base_url = "http://127.0.0.1:8080";  // short_url = base_url + "/" + code
  std::int64_t rate_limit_api = 100;               // per API key per second; 0 = off
  std::int64_t rate_limit_redirect = 0;            // per client IP per second; 0 = off
  std::uint64_t click_id_prefix = 0;               // random per process: high half of event ids
  // Peers whose X-Forwarded-For is believed (core::ClientIp): the client IP of clicks and of the
  // per-IP redirect limit. Empty: the peer is always the client.
  std::vector<core::Cidr> trusted_proxies;
};

// One named readiness check: "ok", "down: <why>" (the instance is not ready), or
// "degraded: <why>" (reported, but the instance still serves everything, e.g. a read replica
// is down and the primary answers its reads).
using ReadinessCheck = std::function<std::pair<std::string, std::string>()>;

struct ApiDeps {
  service::LinkService& links;
  service::AccountService& accounts;
  ports::StatsStore& stats;
  service::RedirectCache& cache;
  service::ClickQueue& clicks;
  const ports::Clock& clock;
  WorkerPool& workers;
  std::vector<ReadinessCheck> readiness;
  std::function<void(core::MetricsWriter&)> extra_metrics;  // appends more metric families
  // Threads for redirect cache misses (short database reads); null: the workers. Kept apart
  // from `workers`, whose threads may wait on group commits, and sized to the cores, since more
  // threads than cores only add switching to a read-bound path.
  WorkerPool* lookups = nullptr;
  // Per-API-key limits shared by every instance (cluster mode); null: per process. When it
  // cannot answer, the per-process limiter decides (counted in kurz_rate_limit_fallbacks_total).
  ports::RateLimitStore* shared_limits = nullptr;
  // Real-time counters kept by `kurz worker` (cluster mode with Kafka): shown as "realtime" in
  // the stats; null: not shown. When they cannot be read the stats are answered without them.
  ports::RealtimeCounters* realtime = nullptr;
  // Draws GET /v1/urls/{code}/qr; null: that route answers 404.
  const ports::QrEncoder* qr = nullptr;
};

// The HTTP face of kurz: routing, request ids, authentication, rate limits, the redirect path
// and the REST API of API.md. Redirects answered from the cache never leave the loop thread;
// everything that needs the database runs on the worker pool.
class Api final : public Handler {
 public:
  Api(ApiDeps deps, ApiOptions options, int loops);
  ~Api() override;

  void Handle(const Request& request, Responder& responder) override;
  void HandleProtocolError(int status, std::string_view code, std::string_view message,
                           Responder& responder) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kurz::http
