#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/metrics_writer.hpp"

namespace kurz::http {

// A route's index in Metrics: Metrics::Register hands them out (the route tables register
// their routes' names when they are built), so there is no separate list of routes to keep.
using RouteId = std::uint8_t;

// Pre-registered request counters and latency histograms (relaxed atomics: recording costs a
// few uncontended increments and never allocates).
class Metrics {
 public:
  static constexpr std::size_t kMaxRoutes = 32;

  Metrics();
  // The id of the route labelled `name` (the `route` label), registered on first use. Call while
  // building, before requests are recorded (not thread-safe); `name` must outlive the Metrics.
  // Beyond kMaxRoutes names every further name shares the last id.
  RouteId Register(std::string_view name);
  void Record(RouteId route, int status, std::int64_t micros);
  // For answers given on the event loop right away: counted in the first latency bucket.
  void RecordImmediate(RouteId route, int status);
  // The request metrics' families (other components append theirs to the same writer).
  void Render(core::MetricsWriter& w) const;

 private:
  static constexpr std::size_t kStatuses = 600;
  static constexpr std::array<std::int64_t, 15> kBucketsUs = {
      100,   250,    500,    1000,   2500,    5000,    10000,  25000,
      50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};
  struct PerRoute {
    std::array<std::atomic<std::uint64_t>, kStatuses> by_status{};
    std::array<std::atomic<std::uint64_t>, kBucketsUs.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_us{0};
    std::atomic<std::uint64_t> count{0};
  };
  std::unique_ptr<std::array<PerRoute, kMaxRoutes>> routes_;
  std::array<std::string_view, kMaxRoutes> names_{};
  std::size_t registered_ = 0;
};

}  // namespace kurz::http
