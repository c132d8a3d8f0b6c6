#include "service/click_drain.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

#include "service/crypto.hpp"

namespace kurz::service {

namespace {
constexpr std::size_t kPopBatch = 1024;
constexpr std::size_t kMemoLimit = 1 << 16;
constexpr auto kIdleWait = std::chrono::milliseconds(50);
constexpr auto kMaxRetryDelay = std::chrono::milliseconds(2000);
}  // namespace

std::size_t ClickDrain::KeyHash::operator()(const Key& k) const noexcept {
  return std::hash<std::string_view>{}(k.code) ^ (static_cast<std::size_t>(k.days) * 0x9E3779B9u);
}

std::size_t ClickDrain::MemoKeyHash::operator()(const MemoKey& k) const noexcept {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, k.ip.data(), 8);
  std::memcpy(&b, k.ip.data() + 8, 8);
  return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ULL) ^ b ^
                                  (static_cast<std::uint64_t>(k.days) << 40));
}

ClickDrain::ClickDrain(ClickQueue& queue, ports::ClickLog& log, const ports::Clock& clock,
                       std::string ip_hash_secret, std::string batch_prefix, Options options)
    : queue_(queue),
      log_(log),
      clock_(clock),
      secret_(std::move(ip_hash_secret)),
      batch_prefix_(std::move(batch_prefix)),
      options_(options),
      events_(kPopBatch) {}

ClickDrain::~ClickDrain() { Stop(); }

void ClickDrain::Start() {
  window_start_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "kurz-clicks");
    Run();
  });
}

void ClickDrain::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) stop_deadline_ = std::chrono::steady_clock::now() + kStopGrace;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    Run();  // never started (or already stopped): drain on this thread
  }
}

std::string ClickDrain::VisitorHash(const core::ClickEvent& event) const {
  // The day's salt is derived from the secret and the date, so yesterday's hashes cannot be
  // linked to today's and nothing but the secret has to be stored.
  std::string material = secret_;
  material += '|';
  material += core::FormatDate(core::DateOf(event.at));
  material += '|';
  material.append(reinterpret_cast<const char*>(event.ip.data()), event.ip.size());
  return Sha256Hex(material).substr(0, 32);
}

ClickDrain::Hash16 ClickDrain::Visitor(const core::ClickEvent& event) {
  // Hashing costs far more than a lookup, and visitors come back: remember recent ones.
  const MemoKey key{event.ip, core::DateOf(event.at).days};
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  const std::string hex = VisitorHash(event);
  Hash16 hash{};
  for (std::size_t i = 0; i < hash.size(); ++i) {
    hash[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
  }
  if (memo_.size() >= kMemoLimit) memo_.clear();
  memo_.emplace(key, hash);
  return hash;
}

void ClickDrain::Absorb(const core::ClickEvent& event) {
  Pending& pending = window_[Key{std::string(event.code.view()), core::DateOf(event.at).days}];
  ++pending.clicks;
  pending.last_clicked_at = std::max(pending.last_clicked_at, event.at);
  const Hash16 visitor = Visitor(event);
  if (pending.visitors.empty() || pending.visitors.back() != visitor) {
    pending.visitors.push_back(visitor);
  }
  ++window_clicks_;
  pending_clicks_.fetch_add(1, std::memory_order_relaxed);
}

core::ClickBatch ClickDrain::TakeWindow() {
  core::ClickBatch batch;
  batch.id = batch_prefix_ + "-" + std::to_string(++batch_seq_);
  batch.deltas.reserve(window_.size());
  for (auto& [key, pending] : window_) {
    core::ClickDelta delta;
    delta.code = key.code;
    delta.date = core::Date{key.days};
    delta.clicks = pending.clicks;
    delta.last_clicked_at = pending.last_clicked_at;
    std::sort(pending.visitors.begin(), pending.visitors.end());
    pending.visitors.erase(std::unique(pending.visitors.begin(), pending.visitors.end()),
                           pending.visitors.end());
    delta.visitors.reserve(pending.visitors.size());
    for (const Hash16& v : pending.visitors) {
      delta.visitors.push_back(
          ToHex(std::string_view(reinterpret_cast<const char*>(v.data()), v.size())));
    }
    batch.deltas.push_back(std::move(delta));
  }
  inflight_clicks_ = window_clicks_;
  window_.clear();
  window_clicks_ = 0;
  window_start_ = std::chrono::steady_clock::now();
  return batch;
}

bool ClickDrain::ApplyInflight() {
  auto applied = log_.Apply(*inflight_);
  if (!applied && applied.error().code != core::ErrorCode::kInvalidArgument) {
    store_errors_.fetch_add(1, std::memory_order_relaxed);
    return false;  // retried later with the same batch id
  }
  const auto clicks = static_cast<std::uint64_t>(inflight_clicks_);
  if (applied) {
    stored_.fetch_add(clicks, std::memory_order_relaxed);
  } else {
    // The log refuses this batch as such: retrying cannot help, and would block every later one.
    std::fprintf(stderr, "kurz: %llu click events refused by the store: %s\n",
                 static_cast<unsigned long long>(clicks), applied.error().detail.c_str());
    lost_.fetch_add(clicks, std::memory_order_relaxed);
  }
  pending_clicks_.fetch_sub(clicks, std::memory_order_relaxed);
  inflight_.reset();
  inflight_clicks_ = 0;
  return true;
}

void ClickDrain::Run() {
  auto retry_delay = std::chrono::milliseconds(50);
  auto next_retry = std::chrono::steady_clock::time_point{};
  for (;;) {
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      stopping = stopping_;
    }
    // Take events while the window has room; when it is full (the log is down), leave them in
    // the queue, which then drops and counts what does not fit.
    std::size_t taken = 0;
    if (window_.size() < options_.max_pending_keys) {
      taken = queue_.PopBatch(events_);
      for (std::size_t i = 0; i < taken; ++i) Absorb(events_[i]);
    }

    const auto now = std::chrono::steady_clock::now();
    const auto age = now - window_start_;
    const bool window_due =
        !window_.empty() &&
        (stopping || (age >= options_.flush_interval && window_.size() <= options_.small_window) ||
         age >= options_.max_flush_interval || window_.size() >= options_.max_pending_keys);
    if (!inflight_ && window_due) inflight_ = TakeWindow();
    if (inflight_ && now >= next_retry) {
      if (ApplyInflight()) {
        retry_delay = std::chrono::milliseconds(50);
      } else {
        next_retry = now + retry_delay;
        retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
      }
    }

    if (stopping && taken == 0 && !inflight_ && window_.empty() && queue_.depth() == 0) return;
    if (stopping && now >= stop_deadline_ && inflight_) {
      // Shutting down and the log keeps failing: give up rather than hang the exit.
      const std::uint64_t given_up =
          static_cast<std::uint64_t>(inflight_clicks_ + window_clicks_) + queue_.depth();
      lost_.fetch_add(given_up, std::memory_order_relaxed);
      std::fprintf(stderr, "kurz: %llu click events could not be stored before exit\n",
                   static_cast<unsigned long long>(given_up));
      return;
    }
    if (taken == kPopBatch) continue;  // more is waiting
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      wake_.wait_for(lock, inflight_ ? std::min<std::chrono::steady_clock::duration>(
                                           kIdleWait, next_retry - now)
                                     : kIdleWait);
    } else if (inflight_) {
      wake_.wait_until(lock, std::min(next_retry, stop_deadline_));
    }
  }
}

}  // namespace kurz::service
