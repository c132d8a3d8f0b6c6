#include "service/event_publisher.hpp"

#include <pthread.h>

namespace kurz::service {

namespace {
constexpr std::size_t kPopBatch = 1024;
constexpr auto kIdleWait = std::chrono::milliseconds(5);
}  // namespace

EventPublisher::EventPublisher(ClickQueue& queue, ports::EventSink& sink,
                               const ports::GeoLocator& geo, std::string ip_salt_secret)
    : queue_(queue),
      sink_(sink),
      geo_(geo),
      visitors_(std::move(ip_salt_secret)),
      events_(kPopBatch) {}

EventPublisher::~EventPublisher() { Stop(); }

void EventPublisher::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "kurz-events");
    Run();
  });
}

void EventPublisher::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  while (PublishQueued() > 0) {
  }
  sink_.Flush(kStopGrace);
  std::lock_guard lock(mutex_);
  stopped_ = true;
}

std::size_t EventPublisher::PublishQueued() {
  const std::size_t taken = queue_.PopBatch(events_);
  for (std::size_t i = 0; i < taken; ++i) {
    analytics::MessageOf(events_[i], visitors_, geo_, message_);
    json_.clear();
    analytics::EncodeClickMessage(message_, json_);
    sink_.Publish(message_.code, json_);
  }
  published_.fetch_add(taken, std::memory_order_relaxed);
  return taken;
}

void EventPublisher::Run() {
  for (;;) {
    if (PublishQueued() == kPopBatch) continue;  // more is waiting
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    // The queue has no wake-up (pushing must stay a few atomic operations): poll it. 5 ms adds
    // little to an event's latency and nothing measurable to an idle process.
    wake_.wait_for(lock, kIdleWait);
    if (stopping_) return;
  }
}

}  // namespace kurz::service
