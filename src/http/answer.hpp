#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "http/metrics.hpp"
#include "http/reply.hpp"
#include "http/server.hpp"
#include "http/worker_pool.hpp"

namespace kurz::http {

// Sends answers and records them in the request metrics: at once on the loop, or later from a
// worker pool.
class Answerer {
 public:
  explicit Answerer(Metrics& metrics) : metrics_(metrics) {}

  // On the loop, now. Such answers take microseconds: they are counted in the histogram's first
  // bucket without reading the clock twice per request. No allocation.
  void SendNow(RouteId route, Responder& res, int status, std::span<const Header> headers,
               std::string_view body);
  void SendNow(RouteId route, Responder& res, const Response& response);

  // Runs `work` on `pool` and sends its answer; an exception becomes 500, a full pool 503.
  using Work = std::function<Response(const Request&, Reply&)>;
  void Defer(WorkerPool& pool, RouteId route, const Request& req, Responder& res,
             std::string_view request_id, Work work);

  // Answers of 500 or 503 from deferred work: a failing backend (or a bug), never the input.
  std::uint64_t BackendErrors() const { return backend_errors_.load(std::memory_order_relaxed); }

  // Streamed answers cut short because a backend failed after the head was sent (they cannot
  // become a 500): their producers count them here.
  void CountStreamError() { stream_errors_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t StreamErrors() const { return stream_errors_.load(std::memory_order_relaxed); }

 private:
  Metrics& metrics_;
  std::atomic<std::uint64_t> backend_errors_{0};
  std::atomic<std::uint64_t> stream_errors_{0};
};

}  // namespace kurz::http
