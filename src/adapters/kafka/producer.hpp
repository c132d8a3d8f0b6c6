#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/kafka/spool.hpp"
#include "core/error.hpp"
#include "ports/event_sink.hpp"

struct rd_kafka_s;
struct rd_kafka_topic_s;
struct rd_kafka_message_s;

namespace kurz::adapters::kafka {

// The Kafka message header that marks an event read back from the spool: it may have reached
// the topic before (it was in flight when the cluster went away), so consumers check the event
// id before storing it. Value "1".
inline constexpr char kReplayedHeader[] = "kurz-replayed";

struct ProducerOptions {
  std::string brokers;              // "h1:p1,h2:p2"
  std::string topic;                // "click-events"
  std::filesystem::path spool_dir;  // created if missing
  std::uint64_t spool_max_bytes = 1ull << 30;
  std::chrono::milliseconds linger{5};
  std::size_t max_in_memory = 100'000;       // messages librdkafka may hold before new ones spool
  std::map<std::string, std::string> extra;  // more librdkafka settings (tests: timeouts)
  // With messages outstanding and none acknowledged for this long, the cluster counts as down:
  // queued messages are purged into the spool and new ones spool until it answers again.
  std::chrono::milliseconds stall_timeout{5000};
};

// EventSink on a Kafka topic through an idempotent librdkafka producer (acks=all, lz4, Java's
// murmur2 key partitioning), with an on-disk Spool for what the cluster cannot take:
//  * Publish hands the event to librdkafka without blocking; it goes to the spool instead when
//    the cluster is known to be down (error callback "all brokers down", or no acknowledgement
//    for stall_timeout) or when max_in_memory events are already outstanding.
//  * Messages never time out inside librdkafka (message.timeout.ms=0); when the cluster goes
//    down the never-sent ones are purged and come back in delivery reports, which spool them.
//  * Once the cluster answers again (an acknowledgement, or a metadata probe every second), a
//    background thread replays the spool segment by segment, oldest first, each record with the
//    header kurz-replayed=1, with at most a bounded window in flight (separate from
//    max_in_memory, so live events keep their share); a segment is deleted only after all of
//    its records were acknowledged, so a crash re-sends, never loses.
// Stats: `delivered` counts acknowledged live events, `replayed` acknowledged spool records;
// `dropped` counts events lost (spool full or unwritable, or rejected by the cluster for good).
class KafkaEventSink final : public ports::EventSink {
 public:
  // invalid_argument for bad options (empty brokers, illegal topic, unknown librdkafka setting),
  // unavailable when the spool directory cannot be created, written or locked. Does not contact
  // the brokers, so it returns at once even when they are down.
  static core::Result<std::unique_ptr<KafkaEventSink>> Open(ProducerOptions options);

  KafkaEventSink(const KafkaEventSink&) = delete;
  KafkaEventSink& operator=(const KafkaEventSink&) = delete;
  // Flushes with a short deadline (what remains is spooled), then closes the spool durably.
  ~KafkaEventSink() override;

  void Publish(std::string_view key, std::string_view payload) override;
  // True when every event published so far is acknowledged or spooled and none was dropped
  // during this call. At the deadline, messages still held by librdkafka (queued or in flight)
  // are purged into the spool; in-flight ones may then arrive twice (the copy is marked replayed).
  bool Flush(std::chrono::milliseconds timeout) override;
  ports::EventSinkStats Stats() const override;

 private:
  using Clock = std::chrono::steady_clock;

  // The segment being replayed; touched by the background thread only.
  struct Replay {
    std::uint64_t seq = 0;
    std::vector<SpoolRecord> records;
    std::size_t next = 0;      // first record not yet produced
    std::size_t inflight = 0;  // produced, not yet reported
    bool failed = false;       // a record came back undelivered: retry the segment later
  };

  KafkaEventSink(ProducerOptions options, std::unique_ptr<Spool> spool);

  static void OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* message, void* opaque);
  static void OnError(rd_kafka_s* rk, int err, const char* reason, void* opaque);

  void Run();
  void SpoolEvent(std::string_view key, std::string_view payload);
  void MarkUp();
  void MarkDown(std::string_view why);
  void Probe(Clock::time_point now);
  void DriveReplay(Clock::time_point now);
  void HandleLiveReport(const rd_kafka_message_s& message);
  void HandleReplayReport(const rd_kafka_message_s& message, std::uint64_t seq);
  void DrainReports(std::chrono::milliseconds timeout);
  void NotifyIfIdle();

  const ProducerOptions options_;
  const std::size_t replay_window_;
  std::unique_ptr<Spool> spool_;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_topic_s* rkt_ = nullptr;

  std::atomic<bool> stop_{false};
  std::atomic<bool> down_{false};       // known unreachable: Publish spools
  std::atomic<bool> connected_{false};  // a broker answered since the last "down"
  std::atomic<bool> purge_wanted_{false};

  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> spooled_{0};
  std::atomic<std::uint64_t> replayed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::int64_t> live_outstanding_{0};  // live events handed to librdkafka
  std::atomic<std::int64_t> replay_outstanding_{0};
  std::atomic<std::int64_t> last_ack_ns_{0};  // steady clock of the last acknowledgement

  std::mutex idle_mu_;
  std::condition_variable idle_cv_;  // live_outstanding_ reached 0

  // Background thread only.
  std::optional<Replay> replay_;
  Clock::time_point replay_retry_at_{};
  Clock::time_point next_probe_{};
  Clock::time_point next_purge_{};
  Clock::time_point last_sync_{};
  Clock::time_point busy_since_{};  // outstanding went from 0 to >0 (or the last ack since)

  std::thread thread_;
};

}  // namespace kurz::adapters::kafka
