#include <string>

#include "core/metrics_writer.hpp"
#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/openapi.hpp"

// /healthz, /readyz, /metrics and /v1/openapi.json: for load balancers, Prometheus and clients;
// /.well-known/ app-link documents for phones.

namespace kurz::http::handlers {

Response Health(ApiContext& /*ctx*/, const Call& call) {
  return call.reply.Text(200, "application/json", R"({"status":"ok"})");
}

Response Ready(ApiContext& ctx, const Call& call) {
  Json checks = Json::object();
  bool ready = true;
  for (const ReadinessCheck& check : ctx.deps.readiness) {
    auto [name, state] = check();
    if (state != "ok" && !state.starts_with("degraded")) ready = false;
    checks[name] = state;
  }
  Json body;
  body["status"] = ready ? "ready" : "not ready";
  body["checks"] = checks;
  Response out = call.reply.Json(ready ? 200 : 503, body);
  if (!ready) out.headers.emplace_back("Retry-After", "1");
  return out;
}

Response MetricsText(ApiContext& ctx, const Call& call) {
  const ApiDeps& d = ctx.deps;
  std::string out;
  out.reserve(16384);
  core::MetricsWriter w(out);
  ctx.metrics.Render(w);
  w.Counter("kurz_cache_hits_total", "Redirects answered from the L1 cache.",
            static_cast<double>(d.cache.hits()));
  w.Counter("kurz_cache_misses_total", "Redirect lookups the L1 cache missed.",
            static_cast<double>(d.cache.misses()));
  w.Gauge("kurz_cache_entries", "Entries in the L1 cache.", static_cast<double>(d.cache.size()));
  w.Counter("kurz_click_events_total", "Click events queued for recording.",
            static_cast<double>(d.clicks.pushed()));
  w.Counter("kurz_click_events_dropped_total", "Click events dropped because the queue was full.",
            static_cast<double>(d.clicks.dropped()));
  w.Gauge("kurz_click_queue_depth", "Click events waiting to be stored.",
          static_cast<double>(d.clicks.depth()));
  w.Gauge("kurz_click_queue_capacity", "Capacity of the click queue.",
          static_cast<double>(d.clicks.capacity()));
  w.Counter("kurz_rate_limit_fallbacks_total",
            "API rate-limit checks decided by the per-process limiter because the shared store "
            "did not answer.",
            static_cast<double>(ctx.api_limit.Fallbacks()));
  w.Counter("kurz_password_limit_fallbacks_total",
            "Link password tries counted by this process alone because the shared store did not "
            "answer.",
            static_cast<double>(ctx.password_guard.fallbacks()));
  w.Counter("kurz_backend_errors_total",
            "Requests answered 500 or 503 because a backend (the database) failed.",
            static_cast<double>(ctx.answers.BackendErrors()));
  w.Counter("kurz_stream_errors_total",
            "Streamed answers (exports) cut short because a backend failed mid-stream.",
            static_cast<double>(ctx.answers.StreamErrors()));
  w.Gauge("kurz_worker_queue_depth", "Tasks waiting for a worker thread.",
          static_cast<double>(d.workers.queued()));
  if (d.extra_metrics) d.extra_metrics(w);
  return call.reply.Text(200, "text/plain; version=0.0.4; charset=utf-8", std::move(out));
}

Response OpenApi(ApiContext& /*ctx*/, const Call& call) {
  return call.reply.Text(200, "application/json", std::string(OpenApiJson()));
}

namespace {
Response WellKnownDocument(const Call& call, const std::string& document) {
  if (document.empty()) {
    return call.reply.Error(404, "not_found",
                            "this server has no such document (--well-known-dir)");
  }
  Response out = call.reply.Text(200, "application/json", document);
  for (auto& [name, value] : out.headers) {
    if (name == "Cache-Control") value = "public, max-age=3600";
  }
  return out;
}
}  // namespace

Response AppleAppSiteAssociation(ApiContext& ctx, const Call& call) {
  return WellKnownDocument(call, ctx.options.apple_app_site_association);
}

Response AssetLinks(ApiContext& ctx, const Call& call) {
  return WellKnownDocument(call, ctx.options.assetlinks_json);
}

}  // namespace kurz::http::handlers
