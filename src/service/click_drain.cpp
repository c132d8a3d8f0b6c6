#include "service/click_drain.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

namespace kurz::service {

namespace {
constexpr std::size_t kPopBatch = 1024;
constexpr auto kIdleWait = std::chrono::milliseconds(50);
constexpr auto kMaxRetryDelay = std::chrono::milliseconds(2000);
}  // namespace

ClickDrain::ClickDrain(ClickQueue& queue, ports::ClickLog& log, analytics::Aggregator& aggregator,
                       std::string batch_prefix, Options options)
    : queue_(queue),
      log_(log),
      aggregator_(aggregator),
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

core::ClickBatch ClickDrain::TakeWindow() {
  core::ClickBatch batch;
  batch.id = batch_prefix_ + "-" + std::to_string(++batch_seq_);
  batch.deltas = aggregator_.Take();
  inflight_clicks_ = window_clicks_;
  window_clicks_ = 0;
  window_start_ = std::chrono::steady_clock::now();
  return batch;
}

bool ClickDrain::ApplyInflight() {
  if (!inflight_) return true;  // nothing in flight: nothing left to store
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
    if (aggregator_.keys() < options_.max_pending_keys) {
      taken = queue_.PopBatch(events_);
      for (std::size_t i = 0; i < taken; ++i) aggregator_.Add(events_[i]);
      window_clicks_ += static_cast<std::int64_t>(taken);
      pending_clicks_.fetch_add(taken, std::memory_order_relaxed);
    }

    const auto now = std::chrono::steady_clock::now();
    const auto age = now - window_start_;
    const std::size_t keys = aggregator_.keys();
    const bool window_due =
        keys > 0 &&
        (stopping || (age >= options_.flush_interval && keys <= options_.small_window) ||
         age >= options_.max_flush_interval || keys >= options_.max_pending_keys);
    if (!inflight_ && window_due) inflight_ = TakeWindow();
    if (inflight_ && now >= next_retry) {
      if (ApplyInflight()) {
        retry_delay = std::chrono::milliseconds(50);
      } else {
        next_retry = now + retry_delay;
        retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
      }
    }

    if (stopping && taken == 0 && !inflight_ && aggregator_.keys() == 0 && queue_.depth() == 0) {
      return;
    }
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
