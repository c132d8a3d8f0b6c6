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
#include "ports/attempt_counter.hpp"
#include "ports/click_log.hpp"
#include "ports/clock.hpp"
#include "ports/geo_locator.hpp"
#include "ports/password_hasher.hpp"
#include "ports/qr_encoder.hpp"
#include "ports/rate_limit_store.hpp"
#include "ports/realtime_counters.hpp"
#include "ports/user_agent_parser.hpp"
#include "service/account_service.hpp"
#include "service/click_queue.hpp"
#include "service/link_service.hpp"
#include "service/rate_limiter.hpp"
#include "service/redirect_cache.hpp"

namespace kurz::http {

// Request bodies: 64 KiB for every route but POST /v1/urls/bulk, which takes up to 1 MiB (the
// server's own limit, ServerOptions::max_body_bytes; 413 beyond a route's bound).
inline constexpr std::size_t kMaxBody = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxRequestBody = std::size_t{1024} * 1024;

struct ApiOptions {
  std::string base_url = "http://127.0.0.1:8080";  // short_url = base_url + "/" + code
  std::int64_t rate_limit_api = 100;               // per API key per second; 0 = off
  std::int64_t rate_limit_redirect = 0;            // per client IP per second; 0 = off
  std::uint64_t click_id_prefix = 0;               // random per process: high half of event ids
  // Peers whose X-Forwarded-For is believed (core::ClientIp): the client IP of clicks and of the
  // per-IP redirect limit. Empty: the peer is always the client.
  std::vector<core::Cidr> trusted_proxies;
  // --well-known-dir: the JSON documents served at /.well-known/ for iOS universal links and
  // Android App Links; empty: 404.
  std::uint64_t sticky_secret = 0;  // keys core::StickyKey: which variant a visitor gets
  std::string apple_app_site_association;
  std::string assetlinks_json;
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
  // Tells bots from people for click budgets (the classification the analytics use); null:
  // every GET is a person's.
  ports::UserAgentParser* user_agents = nullptr;
  // Countries for targeting rules; null: no country condition holds.
  const ports::GeoLocator* geo = nullptr;
  // Checks link passwords (POST /{code}, on the workers); null: POST /{code} answers 503.
  ports::PasswordHasher* passwords = nullptr;
  // Wrong link passwords per client and link, shared by every instance (cluster mode); null:
  // per process. When it cannot answer the per-process count decides (counted in
  // kurz_password_limit_fallbacks_total).
  ports::AttemptCounter* shared_attempts = nullptr;
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
