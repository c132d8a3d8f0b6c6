#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/metrics_writer.hpp"

namespace kurz::http {

// The routes /metrics reports separately.
enum class Route : std::uint8_t {
  kRedirect,
  kHealth,
  kReady,
  kMetrics,
  kOpenApi,
  kLinks,
  kLink,
  kLinkStats,
  kLinkTimeseries,
  kApiKeys,
  kApiKey,
  kUsers,
  kUser,
  kOther,
  kCount,
};
std::string_view RouteName(Route route);

// Pre-registered request counters and latency histograms (relaxed atomics: recording costs a
// few uncontended increments and never allocates).
class Metrics {
 public:
  Metrics();
  void Record(Route route, int status, std::int64_t micros);
  // For answers given on the event loop right away: counted in the first latency bucket.
  void RecordImmediate(Route route, int status);
  // The request metrics' families (other components append theirs to the same writer).
  void Render(core::MetricsWriter& w) const;

 private:
  static constexpr std::size_t kStatuses = 600;
  static constexpr std::size_t kRoutes = static_cast<std::size_t>(Route::kCount);
  static constexpr std::array<std::int64_t, 15> kBucketsUs = {
      100,   250,    500,    1000,   2500,    5000,    10000,  25000,
      50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};
  struct PerRoute {
    std::array<std::atomic<std::uint64_t>, kStatuses> by_status{};
    std::array<std::atomic<std::uint64_t>, kBucketsUs.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_us{0};
    std::atomic<std::uint64_t> count{0};
  };
  std::unique_ptr<std::array<PerRoute, kRoutes>> routes_;
};

}  // namespace kurz::http
