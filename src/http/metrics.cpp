#include "http/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace kurz::http {

Metrics::Metrics() : routes_(std::make_unique<std::array<PerRoute, kMaxRoutes>>()) {}

RouteId Metrics::Register(std::string_view name) {
  for (std::size_t i = 0; i < registered_; ++i) {
    if (names_[i] == name) return static_cast<RouteId>(i);
  }
  if (registered_ == kMaxRoutes) return static_cast<RouteId>(kMaxRoutes - 1);
  names_[registered_] = name;
  return static_cast<RouteId>(registered_++);
}

void Metrics::Record(RouteId route, int status, std::int64_t micros) {
  PerRoute& r = (*routes_)[route % kMaxRoutes];
  const auto s = static_cast<std::size_t>(std::clamp(status, 0, static_cast<int>(kStatuses) - 1));
  r.by_status[s].fetch_add(1, std::memory_order_relaxed);
  const auto bucket =
      static_cast<std::size_t>(std::ranges::lower_bound(kBucketsUs, micros) - kBucketsUs.begin());
  r.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  r.sum_us.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0)),
                     std::memory_order_relaxed);
  r.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::RecordImmediate(RouteId route, int status) {
  PerRoute& r = (*routes_)[route % kMaxRoutes];
  const auto s = static_cast<std::size_t>(std::clamp(status, 0, static_cast<int>(kStatuses) - 1));
  r.by_status[s].fetch_add(1, std::memory_order_relaxed);
  r.buckets[0].fetch_add(1, std::memory_order_relaxed);
  r.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::Render(core::MetricsWriter& w) const {
  char status[8];
  w.Family("kurz_http_requests_total", core::MetricsWriter::Type::kCounter,
           "HTTP requests answered, by route and status.");
  for (std::size_t i = 0; i < registered_; ++i) {
    const PerRoute& r = (*routes_)[i];
    const std::string_view route = names_[i];
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
  for (std::size_t i = 0; i < registered_; ++i) {
    const PerRoute& r = (*routes_)[i];
    const std::uint64_t count = r.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string_view route = names_[i];
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
