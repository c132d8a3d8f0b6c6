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

void AppendMetric(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, double value) {
  char line[64];
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  std::snprintf(line, sizeof line, " %.17g\n", value);
  out.append(name).append(line);
}

void Metrics::Render(std::string& out) const {
  char buf[160];
  out.append("# HELP kurz_http_requests_total HTTP requests answered, by route and status.\n");
  out.append("# TYPE kurz_http_requests_total counter\n");
  for (std::size_t i = 0; i < kRoutes; ++i) {
    const PerRoute& r = (*routes_)[i];
    for (std::size_t s = 0; s < kStatuses; ++s) {
      const std::uint64_t n = r.by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::snprintf(buf, sizeof buf,
                    "kurz_http_requests_total{route=\"%.*s\",status=\"%zu\"} %llu\n",
                    static_cast<int>(RouteName(static_cast<Route>(i)).size()),
                    RouteName(static_cast<Route>(i)).data(), s, static_cast<unsigned long long>(n));
      out.append(buf);
    }
  }
  out.append(
      "# HELP kurz_http_request_duration_seconds Time from a complete request to its answer.\n");
  out.append("# TYPE kurz_http_request_duration_seconds histogram\n");
  for (std::size_t i = 0; i < kRoutes; ++i) {
    const PerRoute& r = (*routes_)[i];
    const std::uint64_t count = r.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string_view route = RouteName(static_cast<Route>(i));
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBucketsUs.size(); ++b) {
      cumulative += r.buckets[b].load(std::memory_order_relaxed);
      if (b < kBucketsUs.size()) {
        std::snprintf(buf, sizeof buf,
                      "kurz_http_request_duration_seconds_bucket{route=\"%.*s\",le=\"%g\"} %llu\n",
                      static_cast<int>(route.size()), route.data(),
                      static_cast<double>(kBucketsUs[b]) / 1e6,
                      static_cast<unsigned long long>(cumulative));
      } else {
        std::snprintf(
            buf, sizeof buf,
            "kurz_http_request_duration_seconds_bucket{route=\"%.*s\",le=\"+Inf\"} %llu\n",
            static_cast<int>(route.size()), route.data(),
            static_cast<unsigned long long>(cumulative));
      }
      out.append(buf);
    }
    std::snprintf(buf, sizeof buf, "kurz_http_request_duration_seconds_sum{route=\"%.*s\"} %.6f\n",
                  static_cast<int>(route.size()), route.data(),
                  static_cast<double>(r.sum_us.load(std::memory_order_relaxed)) / 1e6);
    out.append(buf);
    std::snprintf(
        buf, sizeof buf, "kurz_http_request_duration_seconds_count{route=\"%.*s\"} %llu\n",
        static_cast<int>(route.size()), route.data(), static_cast<unsigned long long>(count));
    out.append(buf);
  }
}

}  // namespace kurz::http
