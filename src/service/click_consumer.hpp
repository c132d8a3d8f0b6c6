#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "analytics/aggregator.hpp"
#include "analytics/click_message.hpp"
#include "ports/click_log.hpp"
#include "ports/click_source.hpp"
#include "ports/raw_click_store.hpp"
#include "ports/realtime_counters.hpp"

namespace kurz::service {

// The loop of `kurz worker`: one member of the consumer group reading click-events. Messages
// are read in chunks; each chunk is enriched and aggregated (analytics::Aggregator) into the
// open window, and its raw enriched clicks are inserted into the RawClickStore (ClickHouse) at
// once — re-inserting rows is harmless there (rows are identified by event id), so a chunk may
// be stored again after a crash. When the window is due its counts are stored:
//   1. counts → ClickLog (PostgreSQL daily_stats …) in one transaction that also moves the
//      stored stream positions from where the window started to where it ended — the position
//      check makes counting exactly-once however partitions move between workers: a worker
//      that lost a partition cannot store it again (conflict), and a new owner starts where the
//      last stored window ended;
//   2. the group's committed offsets (for lag tools; the stored positions are the truth);
//   3. real-time counters → RealtimeCounters (Redis), best effort.
// A window is due after flush_interval, or after twice as long as the last store took when
// that is longer (up to max_flush_interval): when the database is slow — traffic spread over
// many links — windows grow, so that each stored row carries more clicks and it keeps up.
// Messages replayed from a producer's spool may have been delivered before: their event ids are
// looked up in the raw store (and in the chunk) and a copy stored at an earlier offset makes
// them duplicates, skipped. A message that is not a valid click-events message is counted as
// malformed and skipped.
class ClickConsumer {
 public:
  struct Options {
    std::string stream;        // "<group>/<topic>": the name positions are stored under
    std::string batch_prefix;  // unique per process: batch ids are "<prefix>-<n>"
    std::chrono::milliseconds flush_interval{1000};
    std::chrono::milliseconds max_flush_interval{10'000};
    std::size_t max_window_keys = 500'000;  // (code, day) pairs held before storing
    std::size_t chunk = 20'000;             // messages enriched and inserted raw together
  };

  struct Counters {
    std::uint64_t consumed = 0;      // messages read
    std::uint64_t stored = 0;        // clicks stored (human and bot)
    std::uint64_t duplicates = 0;    // replayed messages already stored
    std::uint64_t malformed = 0;     // messages that are not click events
    std::uint64_t windows = 0;       // windows stored
    std::uint64_t store_errors = 0;  // failed store attempts (retried)
    std::uint64_t conflicts = 0;     // windows dropped: another worker had moved a partition on
    std::uint64_t realtime_errors = 0;
    // Time spent per stage of storing windows (retries included), for finding the slow store.
    double enrich_seconds = 0;    // duplicate checks, enrichment, aggregation
    double raw_seconds = 0;       // RawClickStore::Insert
    double counts_seconds = 0;    // ClickLog::Apply
    double realtime_seconds = 0;  // RealtimeCounters::Add
    std::int64_t lag = 0;         // messages in assigned partitions not yet stored
    std::int64_t partitions = 0;  // assigned now
  };

  // `realtime` may be null. Everything is used by the consumer thread only, from Start to Stop.
  ClickConsumer(ports::ClickSource& source, ports::ClickLog& log, ports::RawClickStore& raw,
                ports::RealtimeCounters* realtime, analytics::Aggregator& aggregator,
                Options options);
  ~ClickConsumer();
  ClickConsumer(const ClickConsumer&) = delete;
  ClickConsumer& operator=(const ClickConsumer&) = delete;

  core::Result<void> Start();
  // Stores the window being read (within kStopGrace), then leaves the group. Idempotent.
  void Stop();
  // Whether the consumer has partitions and its last store attempt worked.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

  Counters counters() const;

  static constexpr std::chrono::milliseconds kStopGrace{5000};

 private:
  struct Cursor {
    bool known = false;  // `next` is the stored position (or the end of the last stored window)
    bool open = false;   // the window holds messages of this partition, from `from`
    std::int64_t from = 0;
    std::int64_t next = 0;
  };
  struct Pending {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    bool replayed = false;
    analytics::ClickMessage message;
  };

  void Run();
  void Take(const ports::StreamMessage& message);
  // Enriches and aggregates the chunk and inserts its raw clicks; false when the insert (or the
  // duplicate check) failed: the chunk is kept and tried again.
  bool StoreChunk();
  // What storing a window's counts (on the store thread) came to.
  struct Stored {
    core::Result<bool> applied = false;
    double apply_seconds = 0;
    bool realtime_failed = false;
    double realtime_seconds = 0;
  };
  // Takes the window's counts and positions as batch_ and closes the window (the next one
  // starts where it ends).
  void PrepareWindow();
  // Stores batch_ on a thread of its own while this one reads on (at most one at a time, in
  // order: the next window's positions start where this one's end).
  void LaunchStore();
  // Handles a finished store: counts, commit; on a conflict the open window is dropped too (it
  // starts where the refused one ended); other failures are retried.
  void FinishStore(const Stored& stored);
  bool WindowOpen() const;
  // Marks replayed messages whose event id is stored (or earlier in the chunk) as duplicates.
  core::Result<void> FindDuplicates(std::vector<bool>& duplicate);
  void DropWindow();
  // Re-reads the stored positions and continues each assigned partition there.
  void Resync();
  core::Result<std::vector<core::StreamPosition>> OnAssign(const std::vector<std::int32_t>& parts);
  void UpdateLag();

  ports::ClickSource& source_;
  ports::ClickLog& log_;
  ports::RawClickStore& raw_;
  ports::RealtimeCounters* realtime_;
  analytics::Aggregator& aggregator_;
  Options options_;

  std::map<std::int32_t, Cursor> cursors_;  // assigned partitions
  std::vector<Pending> chunk_;              // slots reused across chunks
  std::size_t chunk_size_ = 0;
  bool chunk_enriched_ = false;  // rows_ hold the chunk's rows, already aggregated
  std::vector<ports::RawClick> rows_;
  std::uint64_t chunk_duplicates_ = 0;
  std::uint64_t window_clicks_ = 0;  // clicks aggregated into the open window
  std::chrono::steady_clock::time_point window_start_{};
  std::vector<ports::StreamMessage> polled_;
  // The window made ready to store (kept across retries so a retry stores the same thing);
  // while inflight_ is valid the store thread owns batch_.
  bool prepared_ = false;
  core::ClickBatch batch_;
  std::uint64_t batch_clicks_ = 0;
  std::vector<core::StreamPosition> batch_next_;  // to commit once stored
  std::future<Stored> inflight_;
  bool abandon_inflight_ = false;  // partitions revoked meanwhile: forget the batch afterwards
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds retry_delay_{50};
  std::chrono::steady_clock::duration last_store_{};  // how long the last stored window took
  bool resync_ = false;
  std::uint64_t batch_seq_ = 0;
  std::chrono::steady_clock::time_point next_lag_{};

  std::thread thread_;
  std::chrono::steady_clock::time_point stop_deadline_{};  // written before stopping_ is set
  std::atomic<bool> stopping_{false};
  std::atomic<bool> healthy_{false};
  mutable std::mutex counters_mutex_;
  Counters counters_;
};

}  // namespace kurz::service
