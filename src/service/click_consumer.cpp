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
  if (prepared_) {
    prepared_ = false;
    batch_ = {};
  } else {
    (void)aggregator_.Take();
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
  return std::any_of(cursors_.begin(), cursors_.end(), [](const auto& c) { return c.second.open; });
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
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
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

bool ClickConsumer::StoreWindow() {
  auto failed = [this](const core::Error& error, const char* what) {
    std::lock_guard lock(counters_mutex_);
    if (counters_.store_errors++ % 100 == 0) {
      std::fprintf(stderr, "kurz worker: %s failed (retrying): %s\n", what, error.detail.c_str());
    }
    healthy_.store(false, std::memory_order_relaxed);
    return false;
  };
  if (!prepared_) {
    batch_ = {};
    batch_.id = options_.batch_prefix + "-" + std::to_string(++batch_seq_);
    batch_.deltas = aggregator_.Take();
    for (const auto& [partition, cursor] : cursors_) {
      if (!cursor.open) continue;
      batch_.positions.push_back(
          core::PositionMove{options_.stream, partition, cursor.from, cursor.next});
    }
    batch_clicks_ = window_clicks_;
    prepared_ = true;
  }
  const auto apply_start = SteadyClock::now();
  core::Result<bool> applied = log_.Apply(batch_);
  {
    std::lock_guard lock(counters_mutex_);
    counters_.counts_seconds += SecondsSince(apply_start);
  }
  if (!applied) {
    if (applied.error().code == core::ErrorCode::kConflict) {
      std::fprintf(stderr, "kurz worker: window dropped: %s\n", applied.error().detail.c_str());
      {
        std::lock_guard lock(counters_mutex_);
        ++counters_.conflicts;
      }
      DropWindow();
      resync_ = true;
      return false;
    }
    if (applied.error().code == core::ErrorCode::kInvalidArgument) {
      // The counts cannot be stored as they are (never seen: messages are validated when read);
      // move the positions on rather than stop the partitions for good.
      std::fprintf(stderr, "kurz worker: %llu clicks refused by the store: %s\n",
                   static_cast<unsigned long long>(batch_clicks_), applied.error().detail.c_str());
      batch_.deltas.clear();
      batch_clicks_ = 0;
    }
    return failed(applied.error(), "storing counts");
  }
  std::vector<core::StreamPosition> next;
  for (auto& [partition, cursor] : cursors_) {
    if (!cursor.open) continue;
    cursor.open = false;
    next.push_back(core::StreamPosition{partition, cursor.next});
  }
  if (core::Result<void> committed = source_.Commit(next); !committed) {
    std::fprintf(stderr, "kurz worker: committing offsets failed: %s\n",
                 committed.error().detail.c_str());
  }
  // Not retried: a failed update may have been applied in part (the counters are approximate;
  // PostgreSQL has the exact counts).
  std::uint64_t realtime_errors = 0;
  double realtime_seconds = 0;
  if (realtime_ != nullptr && !batch_.deltas.empty()) {
    const auto start = SteadyClock::now();
    if (!realtime_->Add(batch_.deltas)) ++realtime_errors;
    realtime_seconds = SecondsSince(start);
  }
  {
    std::lock_guard lock(counters_mutex_);
    counters_.stored += batch_clicks_;
    ++counters_.windows;
    counters_.realtime_errors += realtime_errors;
    counters_.realtime_seconds += realtime_seconds;
  }
  healthy_.store(true, std::memory_order_relaxed);
  prepared_ = false;
  batch_ = {};
  window_clicks_ = 0;
  window_start_ = SteadyClock::now();
  return true;
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
  auto retry_delay = std::chrono::milliseconds(50);
  auto backoff = [&] {
    std::this_thread::sleep_for(retry_delay);
    retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
  };
  for (;;) {
    const bool stopping = stopping_.load(std::memory_order_relaxed);
    const auto now = SteadyClock::now();
    if (resync_) Resync();
    const bool open = WindowOpen();
    const auto age = now - window_start_;
    const std::size_t keys = aggregator_.keys();
    const bool window_due =
        open && (stopping || prepared_ || age >= options_.max_flush_interval ||
                 (age >= options_.flush_interval && keys <= options_.small_window) ||
                 keys >= options_.max_window_keys);
    const bool stuck = stopping && now >= stop_deadline_;
    if (chunk_size_ > 0 && (chunk_size_ >= options_.chunk || window_due) && !prepared_) {
      if (StoreChunk()) {
        retry_delay = std::chrono::milliseconds(50);
        continue;
      }
      if (!stuck) {
        backoff();
        continue;
      }
    } else if (window_due && chunk_size_ == 0) {
      if (StoreWindow()) {
        retry_delay = std::chrono::milliseconds(50);
        continue;
      }
      if (!stuck && !resync_) {
        backoff();
        continue;
      }
    }
    if (stuck && (open || chunk_size_ > 0)) {
      std::fprintf(stderr,
                   "kurz worker: stopping with a window not stored (it will be read again)\n");
      return;
    }
    if (stopping && !WindowOpen()) return;
    if (!prepared_ && !stopping) {
      polled_.clear();
      const std::size_t room =
          std::min(kPollBatch, options_.chunk - std::min(options_.chunk, chunk_size_));
      core::Result<std::size_t> got =
          source_.Poll(polled_, std::max<std::size_t>(room, 1), kPollWait);
      if (!got) {
        std::fprintf(stderr, "kurz worker: poll failed: %s\n", got.error().detail.c_str());
        std::this_thread::sleep_for(kPollWait);
      } else {
        for (const ports::StreamMessage& m : polled_) Take(m);
        if (!cursors_.empty() && !healthy_.load() && !prepared_ && chunk_size_ == 0) {
          healthy_.store(true, std::memory_order_relaxed);
        }
      }
    }
    if (now >= next_lag_) {
      UpdateLag();
      next_lag_ = now + kLagInterval;
    }
  }
}

}  // namespace kurz::service
