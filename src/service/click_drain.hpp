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

#include "ports/click_log.hpp"
#include "ports/clock.hpp"
#include "service/click_queue.hpp"

namespace kurz::service {

// The background thread that turns click events from the in-memory queue into stored counts.
//
// It aggregates: every event adds one click to its (code, day) and its visitor to that day's
// set, and every flush interval the window is applied to the ClickLog as one batch — one write
// per code and day instead of one per click, which is what lets storage keep up with the
// redirect path. Visitors are keyed hashes of the client IP with a salt that changes every day
// (unique visitors per day without storing an IP or setting a cookie).
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

  ClickDrain(ClickQueue& queue, ports::ClickLog& log, const ports::Clock& clock,
             std::string ip_hash_secret, std::string batch_prefix, Options options);
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

  // The visitor key of an event: 32 hex characters of a keyed hash of (secret, day, IP).
  std::string VisitorHash(const core::ClickEvent& event) const;

  static constexpr std::chrono::milliseconds kStopGrace{3000};

 private:
  using Hash16 = std::array<std::uint8_t, 16>;
  struct Key {
    std::string code;
    std::int32_t days;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Pending {
    std::int64_t clicks = 0;
    core::Micros last_clicked_at = 0;
    std::vector<Hash16> visitors;  // may repeat; deduplicated when the batch is built
  };
  struct MemoKey {
    std::array<std::uint8_t, 16> ip;
    std::int32_t days;
    bool operator==(const MemoKey&) const = default;
  };
  struct MemoKeyHash {
    std::size_t operator()(const MemoKey& k) const noexcept;
  };

  void Run();
  void Absorb(const core::ClickEvent& event);
  Hash16 Visitor(const core::ClickEvent& event);
  core::ClickBatch TakeWindow();
  // Applies inflight_; true when stored (or already stored), false after a failure.
  bool ApplyInflight();

  ClickQueue& queue_;
  ports::ClickLog& log_;
  const ports::Clock& clock_;
  std::string secret_;
  std::string batch_prefix_;
  Options options_;

  std::vector<core::ClickEvent> events_;
  std::unordered_map<Key, Pending, KeyHash> window_;
  std::int64_t window_clicks_ = 0;
  std::chrono::steady_clock::time_point window_start_{};
  std::optional<core::ClickBatch> inflight_;
  std::int64_t inflight_clicks_ = 0;
  std::uint64_t batch_seq_ = 0;
  std::unordered_map<MemoKey, Hash16, MemoKeyHash> memo_;

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
