#include "service/click_drain.hpp"

#include <chrono>
#include <cstdio>

#include "service/crypto.hpp"

namespace kurz::service {

namespace {
constexpr std::size_t kBatch = 1000;
constexpr auto kIdleWait = std::chrono::milliseconds(50);
}  // namespace

ClickDrain::ClickDrain(ClickQueue& queue, ports::ClickLog& log, const ports::Clock& clock,
                       std::string ip_hash_secret)
    : queue_(queue), log_(log), clock_(clock), secret_(std::move(ip_hash_secret)) {
  events_.resize(kBatch);
  records_.reserve(kBatch);
}

ClickDrain::~ClickDrain() { Stop(); }

void ClickDrain::Start() {
  thread_ = std::thread([this] { Run(); });
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
    Run();  // never started: drain on this thread
  }
}

core::ClickRecord ClickDrain::ToRecord(const core::ClickEvent& event) const {
  core::ClickRecord record;
  char id[33];
  std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(event.id_hi),
                static_cast<unsigned long long>(event.id_lo));
  record.event_id.assign(id, 32);
  record.at = event.at;
  record.code = std::string(event.code.view());
  // The salt of the day is derived from the secret and the date, so yesterday's hashes cannot be
  // linked to today's and nothing but the secret has to be stored.
  std::string material = secret_;
  material += '|';
  material += core::FormatDate(core::DateOf(event.at));
  material += '|';
  material.append(reinterpret_cast<const char*>(event.ip.data()), event.ip.size());
  record.ip_hash = Sha256Hex(material).substr(0, 32);
  record.user_agent = std::string(event.user_agent.view());
  record.referrer = std::string(event.referrer.view());
  record.accept_language = std::string(event.accept_language.view());
  return record;
}

void ClickDrain::StoreBatch(std::size_t count) {
  records_.clear();
  for (std::size_t i = 0; i < count; ++i) records_.push_back(ToRecord(events_[i]));
  auto delay = std::chrono::milliseconds(50);
  for (;;) {
    auto stored = log_.Append(records_);
    if (stored) {
      stored_.fetch_add(*stored, std::memory_order_relaxed);
      return;
    }
    store_errors_.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock lock(mutex_);
    if (stopping_ && std::chrono::steady_clock::now() >= stop_deadline_) {
      // Shutting down and the log is still failing: give up rather than hang the exit.
      lost_.fetch_add(count, std::memory_order_relaxed);
      std::fprintf(stderr, "kurz: %zu click events could not be stored: %s\n", count,
                   stored.error().detail.c_str());
      return;
    }
    if (stopping_) {
      wake_.wait_until(lock, std::min(stop_deadline_, std::chrono::steady_clock::now() + delay));
    } else {
      wake_.wait_for(lock, delay);
    }
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
}

void ClickDrain::Run() {
  for (;;) {
    const std::size_t n = queue_.PopBatch(events_);
    if (n > 0) {
      StoreBatch(n);
      continue;
    }
    std::unique_lock lock(mutex_);
    if (stopping_) {
      lock.unlock();
      // Producers may still be finishing a push; one last sweep.
      const std::size_t rest = queue_.PopBatch(events_);
      if (rest == 0) return;
      StoreBatch(rest);
      continue;
    }
    wake_.wait_for(lock, kIdleWait);
  }
}

}  // namespace kurz::service
