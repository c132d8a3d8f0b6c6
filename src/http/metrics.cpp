#include "http/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace kurz::http {

std::string_view RouteName(Route route) {
  switch (route) {
    case Route::kRedirect:
      return "redirect";
    case Route::kHealth:
      return "healthz";
    case Route::kReady:
      return "readyz";
    case Route::kMetrics:
      return "metrics";
    case Route::kOpenApi:
      return "openapi";
    case Route::kLinks:
      return "/v1/urls";
    case Route::kLink:
      return "/v1/urls/{code}";
    case Route::kLinkStats:
      return "/v1/urls/{code}/stats";
    case Route::kLinkTimeseries:
      return "/v1/urls/{code}/stats/timeseries";
    case Route::kApiKeys:
      return "/v1/api-keys";
    case Route::kApiKey:
      return "/v1/api-keys/{id}";
    case Route::kUsers:
      return "/v1/users";
    case Route::kUser:
      return "/v1/users/{id}";
    case Route::kOther:
    case Route::kCount:
      break;
  }
  return "other";
}

Metrics::Metrics() : routes_(std::make_unique<std::array<PerRoute, kRoutes>>()) {}

void Metrics::Record(Route route, int status, std::int64_t micros) {
  PerRoute& r = (*routes_)[static_cast<std::size_t>(route)];
  const auto s = static_cast<std::size_t>(std::clamp(status, 0, static_cast<int>(kStatuses) - 1));
  r.by_status[s].fetch_add(1, std::memory_order_relaxed);
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kBucketsUs.begin(), kBucketsUs.end(), micros) - kBucketsUs.begin());
  r.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  r.sum_us.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0)),
                     std::memory_order_relaxed);
  r.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::RecordImmediate(Route route, int status) {
  PerRoute& r = (*routes_)[static_cast<std::size_t>(route)];
  const auto s = static_cast<std::size_t>(std::clamp(status, 0, static_cast<int>(kStatuses) - 1));
  r.by_status[s].fetch_add(1, std::memory_order_relaxed);
  r.buckets[0].fetch_add(1, std::memory_order_relaxed);
  r.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::Render(core::MetricsWriter& w) const {
  char status[8];
  w.Family("kurz_http_requests_total", core::MetricsWriter::Type::kCounter,
           "HTTP requests answered, by route and status.");
  for (std::size_t i = 0; i < kRoutes; ++i) {
    const PerRoute& r = (*routes_)[i];
    const std::string_view route = RouteName(static_cast<Route>(i));
    for (std::size_t s = 0; s < kStatuses; ++s) {
      const std::uint64_t n = r.by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::snprintf(status, sizeof status, "%zu", s);
      w.Sample("kurz_http_requests_total", {{"route", route}, {"status", status}},
               static_cast<double>(n));
    }
  }
  char le[32];
  w.Family("kurz_http_request_duration_seconds", core::MetricsWriter::Type::kHistogram,
           "Time from a complete request to its answer.");
  for (std::size_t i = 0; i < kRoutes; ++i) {
    const PerRoute& r = (*routes_)[i];
    const std::uint64_t count = r.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string_view route = RouteName(static_cast<Route>(i));
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBucketsUs.size(); ++b) {
      cumulative += r.buckets[b].load(std::memory_order_relaxed);
      if (b < kBucketsUs.size()) {
        std::snprintf(le, sizeof le, "%g", static_cast<double>(kBucketsUs[b]) / 1e6);
      } else {
        std::snprintf(le, sizeof le, "+Inf");
      }
      w.Sample("kurz_http_request_duration_seconds_bucket", {{"route", route}, {"le", le}},
               static_cast<double>(cumulative));
    }
    w.Sample("kurz_http_request_duration_seconds_sum", {{"route", route}},
             static_cast<double>(r.sum_us.load(std::memory_order_relaxed)) / 1e6);
    w.Sample("kurz_http_request_duration_seconds_count", {{"route", route}},
             static_cast<double>(count));
  }
}

}  // namespace kurz::http
