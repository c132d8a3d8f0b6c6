#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "analytics/click_message.hpp"
#include "analytics/visitor.hpp"
#include "ports/event_sink.hpp"
#include "ports/geo_locator.hpp"
#include "service/click_queue.hpp"

namespace kurz::service {

// The background thread of `kurz serve --events kafka://…`: takes click events from the
// in-memory queue, turns each into a click-events message (visitor id and location computed
// here, so the IP goes no further) and hands it to the EventSink, keyed by short code. The
// redirect path only pushes into the queue; nothing here can slow it down or fail it.
class EventPublisher {
 public:
  EventPublisher(ClickQueue& queue, ports::EventSink& sink, const ports::GeoLocator& geo,
                 std::string ip_salt_secret);
  ~EventPublisher();
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  void Start();
  // Publishes what is queued, then flushes the sink (acknowledged or spooled) within
  // kStopGrace. Idempotent.
  void Stop();

  std::uint64_t published() const { return published_.load(std::memory_order_relaxed); }

  static constexpr std::chrono::milliseconds kStopGrace{5000};

 private:
  void Run();
  // Publishes what the queue holds now; returns how many.
  std::size_t PublishQueued();

  ClickQueue& queue_;
  ports::EventSink& sink_;
  const ports::GeoLocator& geo_;
  analytics::VisitorHasher visitors_;
  std::vector<core::ClickEvent> events_;
  analytics::ClickMessage message_;
  std::string json_;

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::atomic<std::uint64_t> published_{0};
};

}  // namespace kurz::service
