#include "service/click_consumer.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace kurz::service {

namespace {
constexpr std::size_t kPollBatch = 10'000;
constexpr auto kPollWait = std::chrono::milliseconds(100);
constexpr auto kLagInterval = std::chrono::milliseconds(1000);
constexpr auto kMaxRetryDelay = std::chrono::milliseconds(2000);
}  // namespace

ClickConsumer::ClickConsumer(ports::ClickSource& source, ports::ClickLog& log,
                             ports::RawClickStore& raw, ports::RealtimeCounters* realtime,
                             analytics::Aggregator& aggregator, Options options)
    : source_(source),
      log_(log),
      raw_(raw),
      realtime_(realtime),
      aggregator_(aggregator),
      options_(std::move(options)) {}

ClickConsumer::~ClickConsumer() { Stop(); }

ClickConsumer::Counters ClickConsumer::counters() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

core::Result<void> ClickConsumer::Start() {
  core::Result<void> subscribed =
      source_.Subscribe([this](const std::vector<std::int32_t>& parts) { return OnAssign(parts); },
                        [this](const std::vector<std::int32_t>& parts) {
                          // Whatever of the window is not stored is forgotten: the next owner reads
                          // it again from the stored positions. Partitions kept (cooperative
                          // rebalancing) go back there.
                          DropWindow();
                          for (std::int32_t p : parts) cursors_.erase(p);
                          resync_ = !cursors_.empty();
                          std::lock_guard lock(counters_mutex_);
                          counters_.partitions = static_cast<std::int64_t>(cursors_.size());
                        });
  if (!subscribed) return subscribed;
  window_start_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "kurz-consume");
    Run();
  });
  return {};
}

void ClickConsumer::Stop() {
  if (stopping_.load()) return;
  stop_deadline_ = std::chrono::steady_clock::now() + kStopGrace;
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  source_.Close();
}

core::Result<std::vector<core::StreamPosition>> ClickConsumer::OnAssign(
    const std::vector<std::int32_t>& parts) {
  DropWindow();
  cursors_.clear();
  for (std::int32_t p : parts) cursors_[p] = Cursor{};
  {
    std::lock_guard lock(counters_mutex_);
    counters_.partitions = static_cast<std::int64_t>(cursors_.size());
  }
  resync_ = false;
  core::Result<std::vector<core::StreamPosition>> stored = log_.Positions(options_.stream);
  if (!stored) {
    // The partitions start at the group's committed offsets; the first store then conflicts
    // (if those lag behind the stored positions) and the consumer resyncs.
    std::fprintf(stderr, "kurz worker: reading stored positions failed: %s\n",
                 stored.error().detail.c_str());
    return stored;
  }
  std::vector<core::StreamPosition> start;
  for (const core::StreamPosition& pos : *stored) {
    auto it = cursors_.find(pos.partition);
    if (it == cursors_.end()) continue;
    it->second.known = true;
    it->second.next = pos.offset;
    start.push_back(pos);
  }
  return start;
}

void ClickConsumer::Resync() {
  core::Result<std::vector<core::StreamPosition>> stored = log_.Positions(options_.stream);
  if (!stored) return;  // resync_ stays set: tried again on the next round
  std::vector<core::StreamPosition> seek;
  for (auto& [partition, cursor] : cursors_) {
    cursor = Cursor{};
    for (const core::StreamPosition& pos : *stored) {
      if (pos.partition != partition) continue;
      cursor.known = true;
      cursor.next = pos.offset;
      seek.push_back(pos);
    }
  }
  if (!seek.empty()) {
    core::Result<void> sought = source_.Seek(seek);
    if (!sought) {
      std::fprintf(stderr, "kurz worker: seek failed: %s\n", sought.error().detail.c_str());
      return;
    }
  }
  resync_ = false;
}

void ClickConsumer::DropWindow() {
  (void)aggregator_.Take();
  if (inflight_.valid()) {
    abandon_inflight_ = true;  // the store thread owns batch_ until it is done
  } else if (prepared_) {
    prepared_ = false;
    batch_ = {};
  }
  chunk_size_ = 0;
  chunk_enriched_ = false;
  rows_.clear();
  window_clicks_ = 0;
  for (auto& [partition, cursor] : cursors_) {
    if (!cursor.open) continue;
    cursor.open = false;
    if (cursor.known) cursor.next = cursor.from;
  }
  window_start_ = std::chrono::steady_clock::now();
}

bool ClickConsumer::WindowOpen() const {
  return std::ranges::any_of(cursors_, [](const auto& c) { return c.second.open; });
}

void ClickConsumer::Take(const ports::StreamMessage& message) {
  Cursor& cursor = cursors_[message.partition];
  if (cursor.known && message.offset < cursor.next) return;  // read before a seek
  if (!cursor.open) {
    if (!WindowOpen()) window_start_ = std::chrono::steady_clock::now();
    cursor.from = cursor.known ? cursor.next : message.offset;
    cursor.open = true;
  }
  cursor.next = message.offset + 1;
  cursor.known = true;
  if (chunk_size_ == chunk_.size()) chunk_.emplace_back();
  Pending& slot = chunk_[chunk_size_];
  core::Result<void> decoded = analytics::DecodeClickMessage(message.payload, slot.message);
  std::lock_guard lock(counters_mutex_);
  ++counters_.consumed;
  if (!decoded) {
    // Skipped, not retried: no later attempt could read it either. The stored position moves
    // past it with the window.
    if (counters_.malformed++ < 100) {
      std::fprintf(stderr, "kurz worker: partition %d offset %lld skipped: %s\n", message.partition,
                   static_cast<long long>(message.offset), decoded.error().detail.c_str());
    }
    return;
  }
  slot.partition = message.partition;
  slot.offset = message.offset;
  slot.replayed = message.replayed;
  ++chunk_size_;
}

core::Result<void> ClickConsumer::FindDuplicates(std::vector<bool>& duplicate) {
  const auto end = chunk_.begin() + static_cast<std::ptrdiff_t>(chunk_size_);
  if (std::none_of(chunk_.begin(), end, [](const Pending& p) { return p.replayed; })) {
    return {};  // the normal case: nothing can be a copy
  }
  // A copy earlier in the chunk: the same id at a smaller offset of the same partition (one
  // code's events share a partition).
  std::unordered_map<std::string_view, std::size_t> first;
  std::vector<std::string> codes;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < chunk_size_; ++i) {
    const Pending& p = chunk_[i];
    auto [it, inserted] = first.emplace(p.message.id, i);
    if (!inserted && p.replayed) {
      duplicate[i] = true;
      continue;
    }
    if (p.replayed) {
      codes.push_back(p.message.code);
      ids.push_back(p.message.id);
    }
  }
  if (ids.empty()) return {};
  std::ranges::sort(codes);
  const auto duplicates = std::ranges::unique(codes);
  codes.erase(duplicates.begin(), duplicates.end());
  core::Result<std::vector<ports::StoredEvent>> stored = raw_.Find(codes, ids);
  if (!stored) return std::unexpected(std::move(stored.error()));
  // Stored before: a copy at another place than this message's own (a chunk stored, then
  // re-read after a crash or a dropped window, finds its own rows — those do not count).
  std::unordered_map<std::string_view, std::vector<const ports::StoredEvent*>> copies;
  for (const ports::StoredEvent& e : *stored) copies[e.event_id].push_back(&e);
  for (std::size_t i = 0; i < chunk_size_; ++i) {
    const Pending& p = chunk_[i];
    if (!p.replayed || duplicate[i]) continue;
    auto it = copies.find(p.message.id);
    if (it == copies.end()) continue;
    for (const ports::StoredEvent* e : it->second) {
      if (e->partition != p.partition || e->offset < p.offset) {
        duplicate[i] = true;
        break;
      }
    }
  }
  return {};
}

namespace {
using SteadyClock = std::chrono::steady_clock;
double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}
}  // namespace

bool ClickConsumer::StoreChunk() {
  auto failed = [this](const core::Error& error, const char* what) {
    std::lock_guard lock(counters_mutex_);
    if (counters_.store_errors++ % 100 == 0) {
      std::fprintf(stderr, "kurz worker: %s failed (retrying): %s\n", what, error.detail.c_str());
    }
    healthy_.store(false, std::memory_order_relaxed);
    return false;
  };
  if (!chunk_enriched_) {
    const auto start = SteadyClock::now();
    std::vector<bool> duplicate(chunk_size_, false);
    if (core::Result<void> found = FindDuplicates(duplicate); !found) {
      return failed(found.error(), "looking up replayed events");
    }
    rows_.clear();
    chunk_duplicates_ = 0;
    for (std::size_t i = 0; i < chunk_size_; ++i) {
      if (duplicate[i]) {
        ++chunk_duplicates_;
        continue;
      }
      Pending& p = chunk_[i];
      const analytics::Aggregator::Enrichment& e = aggregator_.Add(p.message);
      ports::RawClick& row = rows_.emplace_back();
      row.event_id = p.message.id;
      row.at = p.message.at;
      row.code = p.message.code;
      row.visitor = p.message.visitor;
      row.bot = e.bot;
      row.country = p.message.country;
      row.city = p.message.city;
      row.referrer = e.referrer;
      row.device = e.agent.device;
      row.browser = e.agent.browser;
      row.os = e.agent.os;
      row.user_agent = p.message.user_agent;
      row.accept_language = p.message.accept_language;
      row.partition = p.partition;
      row.offset = p.offset;
    }
    chunk_enriched_ = true;
    std::lock_guard lock(counters_mutex_);
    counters_.enrich_seconds += SecondsSince(start);
  }
  const auto start = SteadyClock::now();
  core::Result<void> inserted = raw_.Insert(rows_);
  {
    std::lock_guard lock(counters_mutex_);
    counters_.raw_seconds += SecondsSince(start);
  }
  if (!inserted) return failed(inserted.error(), "inserting raw clicks");
  window_clicks_ += rows_.size();
  {
    std::lock_guard lock(counters_mutex_);
    counters_.duplicates += chunk_duplicates_;
  }
  chunk_size_ = 0;
  chunk_enriched_ = false;
  rows_.clear();
  return true;
}

void ClickConsumer::PrepareWindow() {
  batch_ = {};
  batch_.id = options_.batch_prefix + "-" + std::to_string(++batch_seq_);
  batch_.deltas = aggregator_.Take();
  batch_next_.clear();
  for (auto& [partition, cursor] : cursors_) {
    if (!cursor.open) continue;
    batch_.positions.push_back(
        core::PositionMove{options_.stream, partition, cursor.from, cursor.next});
    batch_next_.push_back(core::StreamPosition{partition, cursor.next});
    cursor.open = false;  // the next window starts at cursor.next
  }
  batch_clicks_ = window_clicks_;
  window_clicks_ = 0;
  window_start_ = SteadyClock::now();
  prepared_ = true;
  abandon_inflight_ = false;
}

void ClickConsumer::LaunchStore() {
  inflight_ = std::async(std::launch::async, [this] {
    pthread_setname_np(pthread_self(), "kurz-store");
    Stored stored;
    const auto start = SteadyClock::now();
    stored.applied = log_.Apply(batch_);
    stored.apply_seconds = SecondsSince(start);
    // Not retried: a failed update may have been applied in part (the counters are
    // approximate; PostgreSQL has the exact counts).
    if (stored.applied && realtime_ != nullptr && !batch_.deltas.empty()) {
      const auto realtime_start = SteadyClock::now();
      stored.realtime_failed = !realtime_->Add(batch_.deltas);
      stored.realtime_seconds = SecondsSince(realtime_start);
    }
    return stored;
  });
}

void ClickConsumer::FinishStore(const Stored& stored) {
  last_store_ = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(stored.apply_seconds + stored.realtime_seconds));
  {
    std::lock_guard lock(counters_mutex_);
    counters_.counts_seconds += stored.apply_seconds;
    counters_.realtime_seconds += stored.realtime_seconds;
    if (stored.realtime_failed) ++counters_.realtime_errors;
  }
  const core::Result<bool>& applied = stored.applied;
  if (applied) {
    if (!abandon_inflight_) {
      if (core::Result<void> committed = source_.Commit(batch_next_); !committed) {
        std::fprintf(stderr, "kurz worker: committing offsets failed: %s\n",
                     committed.error().detail.c_str());
      }
    }
    {
      std::lock_guard lock(counters_mutex_);
      counters_.stored += batch_clicks_;
      ++counters_.windows;
    }
    healthy_.store(true, std::memory_order_relaxed);
    retry_delay_ = std::chrono::milliseconds(50);
    prepared_ = false;
    batch_ = {};
    return;
  }
  if (abandon_inflight_ || applied.error().code == core::ErrorCode::kConflict) {
    if (applied.error().code == core::ErrorCode::kConflict) {
      std::fprintf(stderr, "kurz worker: window dropped: %s\n", applied.error().detail.c_str());
      std::lock_guard lock(counters_mutex_);
      ++counters_.conflicts;
    }
    prepared_ = false;
    batch_ = {};
    // The open window starts where the refused one ended: drop it too, and continue from the
    // stored positions.
    DropWindow();
    resync_ = true;
    return;
  }
  if (applied.error().code == core::ErrorCode::kInvalidArgument) {
    // The counts cannot be stored as they are (never seen: messages are validated when read);
    // move the positions on rather than stop the partitions for good.
    std::fprintf(stderr, "kurz worker: %llu clicks refused by the store: %s\n",
                 static_cast<unsigned long long>(batch_clicks_), applied.error().detail.c_str());
    batch_.deltas.clear();
    batch_clicks_ = 0;
  }
  {
    std::lock_guard lock(counters_mutex_);
    if (counters_.store_errors++ % 100 == 0) {
      std::fprintf(stderr, "kurz worker: storing counts failed (retrying): %s\n",
                   applied.error().detail.c_str());
    }
  }
  healthy_.store(false, std::memory_order_relaxed);
  retry_at_ = SteadyClock::now() + retry_delay_;
  retry_delay_ = std::min(retry_delay_ * 2, kMaxRetryDelay);
}

void ClickConsumer::UpdateLag() {
  std::int64_t lag = 0;
  for (const ports::PartitionLag& p : source_.Lag()) {
    auto it = cursors_.find(p.partition);
    std::int64_t stored = p.position;
    if (it != cursors_.end() && it->second.known) {
      stored = it->second.open ? it->second.from : it->second.next;
    }
    if (p.high_watermark > stored && stored >= 0) lag += p.high_watermark - stored;
  }
  std::lock_guard lock(counters_mutex_);
  counters_.lag = lag;
}

void ClickConsumer::Run() {
  auto chunk_delay = std::chrono::milliseconds(50);
  for (;;) {
    const bool stopping = stopping_.load(std::memory_order_acquire);  // then stop_deadline_ is set
    auto now = SteadyClock::now();
    if (inflight_.valid() &&
        inflight_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      FinishStore(inflight_.get());
    }
    if (resync_ && !inflight_.valid()) Resync();
    const bool stuck = stopping && now >= stop_deadline_;
    if (stuck) {
      if (inflight_.valid()) FinishStore(inflight_.get());
      if (WindowOpen() || chunk_size_ > 0 || prepared_) {
        std::fprintf(stderr,
                     "kurz worker: stopping with a window not stored (it will be read again)\n");
      }
      return;
    }
    const auto age = now - window_start_;
    const std::size_t keys = aggregator_.keys();
    const auto interval = std::min<SteadyClock::duration>(
        options_.max_flush_interval,
        std::max<SteadyClock::duration>(options_.flush_interval, 2 * last_store_));
    const bool window_due =
        WindowOpen() && (stopping || age >= interval || keys >= options_.max_window_keys);
    // Raw clicks first: a window is stored only once all its chunks are.
    if (chunk_size_ > 0 && (chunk_size_ >= options_.chunk || (window_due && !prepared_))) {
      if (StoreChunk()) {
        chunk_delay = std::chrono::milliseconds(50);
        continue;
      }
      std::this_thread::sleep_for(chunk_delay);
      chunk_delay = std::min(chunk_delay * 2, kMaxRetryDelay);
      continue;
    }
    if (!inflight_.valid()) {
      if (prepared_ && now >= retry_at_) {
        LaunchStore();  // a retry of the same batch
      } else if (!prepared_ && window_due && chunk_size_ == 0) {
        PrepareWindow();
        LaunchStore();
      }
    }
    if (stopping) {
      if (!inflight_.valid() && !prepared_ && !WindowOpen() && chunk_size_ == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    // Read on while the last window is stored, up to a window's worth of codes.
    if (keys < options_.max_window_keys && !resync_) {
      polled_.clear();
      const std::size_t room = std::min(kPollBatch, options_.chunk - chunk_size_);
      core::Result<std::size_t> got = source_.Poll(polled_, room, kPollWait);
      if (!got) {
        std::fprintf(stderr, "kurz worker: poll failed: %s\n", got.error().detail.c_str());
        std::this_thread::sleep_for(kPollWait);
      } else {
        for (const ports::StreamMessage& m : polled_) Take(m);
        if (!cursors_.empty() && !prepared_ && chunk_size_ == 0 && !healthy_.load()) {
          healthy_.store(true, std::memory_order_relaxed);
        }
      }
    } else if (inflight_.valid()) {
      inflight_.wait_for(std::chrono::milliseconds(10));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    now = SteadyClock::now();
    if (now >= next_lag_) {
      UpdateLag();
      next_lag_ = now + kLagInterval;
    }
  }
}

}  // namespace kurz::service
