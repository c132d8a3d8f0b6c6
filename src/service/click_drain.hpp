#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "analytics/aggregator.hpp"
#include "ports/click_log.hpp"
#include "service/click_queue.hpp"

namespace kurz::service {

// The background thread that turns click events from the in-memory queue into stored counts.
//
// It runs the analytics pipeline (analytics::Aggregator: enrichment, then aggregation per code
// and day), and every flush interval applies the window to the ClickLog as one batch — one write
// per code and day instead of one per click, which is what lets storage keep up with the
// redirect path.
//
// A batch that fails is retried, with the same id (so an ambiguous failure never counts twice),
// until it is stored; meanwhile new events gather in the next window, up to a bound beyond which
// the queue fills and drops (counted by the queue). Stop() drains the queue and stores what is
// pending, giving a failing log kStopGrace in all before it gives up (counted in lost()).
class ClickDrain {
 public:
  // A window is stored after flush_interval when it is small (up to small_window keys); a big
  // one — heavy traffic over many links — grows up to max_flush_interval, so that each stored
  // (code, day) carries more clicks and storage keeps up with the redirect path.
  struct Options {
    std::chrono::milliseconds flush_interval{1000};
    std::chrono::milliseconds max_flush_interval{10'000};
    std::size_t small_window = 5'000;
    std::size_t max_pending_keys = 1'000'000;  // distinct (code, day) pairs held in memory
  };

  // `aggregator` is used by the drain thread only, from Start() to Stop().
  ClickDrain(ClickQueue& queue, ports::ClickLog& log, analytics::Aggregator& aggregator,
             std::string batch_prefix, Options options);
  ~ClickDrain();
  ClickDrain(const ClickDrain&) = delete;
  ClickDrain& operator=(const ClickDrain&) = delete;

  void Start();
  // Drains the queue, stores what is pending, then stops the thread. Idempotent.
  void Stop();

  std::uint64_t stored() const { return stored_.load(std::memory_order_relaxed); }
  std::uint64_t store_errors() const { return store_errors_.load(std::memory_order_relaxed); }
  // Clicks taken from the queue and not yet stored.
  std::uint64_t pending() const { return pending_clicks_.load(std::memory_order_relaxed); }
  // Clicks given up on at shutdown because the log kept failing.
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

  static constexpr std::chrono::milliseconds kStopGrace{3000};

 private:
  void Run();
  core::ClickBatch TakeWindow();
  // Applies inflight_; true when stored (or already stored), false after a failure.
  bool ApplyInflight();

  ClickQueue& queue_;
  ports::ClickLog& log_;
  analytics::Aggregator& aggregator_;
  std::string batch_prefix_;
  Options options_;

  std::vector<core::ClickEvent> events_;
  std::int64_t window_clicks_ = 0;
  std::chrono::steady_clock::time_point window_start_{};
  std::optional<core::ClickBatch> inflight_;
  std::int64_t inflight_clicks_ = 0;
  std::uint64_t batch_seq_ = 0;

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  std::atomic<std::uint64_t> stored_{0};
  std::atomic<std::uint64_t> store_errors_{0};
  std::atomic<std::uint64_t> pending_clicks_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace kurz::service
