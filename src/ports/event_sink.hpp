#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace kurz::ports {

// Counters of an EventSink, for /metrics.
struct EventSinkStats {
  std::uint64_t published = 0;    // events handed to Publish
  std::uint64_t delivered = 0;    // acknowledged by the cluster (acks=all)
  std::uint64_t spooled = 0;      // written to the on-disk spool (cluster unreachable)
  std::uint64_t replayed = 0;     // read back from the spool and acknowledged
  std::uint64_t dropped = 0;      // lost: the spool was full (or unwritable)
  std::uint64_t spool_bytes = 0;  // on disk now
  std::uint64_t queued = 0;       // in memory, not yet acknowledged
  bool connected = false;         // a broker is reachable
};

// Where `kurz serve` sends click events in cluster mode (the Kafka topic click-events). Publish
// never blocks and never fails: an event the cluster cannot take now is kept (in memory up to a
// bound, then in an on-disk spool up to its cap) and sent when it is back; beyond the cap it is
// dropped and counted. Events read back from the spool are marked as replayed (the worker then
// checks they were not stored before). Thread-safe.
class EventSink {
 public:
  virtual ~EventSink() = default;

  // Sends `payload` keyed by `key` (the short code: one code's events stay in one partition,
  // in order). Copies both.
  virtual void Publish(std::string_view key, std::string_view payload) = 0;

  // Waits up to `timeout` until every published event is acknowledged or spooled; events still
  // in memory then are spooled. For shutdown. True when nothing was dropped.
  virtual bool Flush(std::chrono::milliseconds timeout) = 0;

  virtual EventSinkStats Stats() const = 0;
};

}  // namespace kurz::ports
