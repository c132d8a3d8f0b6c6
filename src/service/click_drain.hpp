#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ports/click_log.hpp"
#include "ports/clock.hpp"
#include "service/click_queue.hpp"

namespace kurz::service {

// The background thread that moves click events from the in-memory queue into the ClickLog:
// batches of up to 1,000, the client IP replaced by a keyed hash whose salt changes every day
// (visitors are counted per day without storing an IP or setting a cookie). A batch that fails
// to store is retried with back-off for as long as the process runs; Stop() drains everything
// still queued, but gives a failing log only kStopGrace in all before it gives up on the rest
// (counted in lost()), so shutdown never hangs on a dead database.
class ClickDrain {
 public:
  ClickDrain(ClickQueue& queue, ports::ClickLog& log, const ports::Clock& clock,
             std::string ip_hash_secret);
  ~ClickDrain();
  ClickDrain(const ClickDrain&) = delete;
  ClickDrain& operator=(const ClickDrain&) = delete;

  void Start();
  // Drains the queue into the log, then stops the thread. Idempotent.
  void Stop();

  std::uint64_t stored() const { return stored_.load(std::memory_order_relaxed); }
  std::uint64_t store_errors() const { return store_errors_.load(std::memory_order_relaxed); }
  // Events given up on at shutdown because the log kept failing.
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

  static constexpr std::chrono::milliseconds kStopGrace{3000};

  // The record kept for an event (exposed for tests).
  core::ClickRecord ToRecord(const core::ClickEvent& event) const;

 private:
  void Run();
  // Stores one batch, retrying until it is stored or (when stopping) the log keeps failing.
  void StoreBatch(std::size_t count);

  ClickQueue& queue_;
  ports::ClickLog& log_;
  const ports::Clock& clock_;
  std::string secret_;
  std::vector<core::ClickEvent> events_;
  std::vector<core::ClickRecord> records_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  std::atomic<std::uint64_t> stored_{0};
  std::atomic<std::uint64_t> store_errors_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace kurz::service
