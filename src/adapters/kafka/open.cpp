#include "adapters/kafka/open.hpp"

#include <algorithm>
#include <string>

#include "adapters/kafka/consumer.hpp"
#include "adapters/kafka/kafka_url.hpp"
#include "adapters/kafka/producer.hpp"

namespace kurz::adapters::kafka {

core::Result<void> CheckUrl(std::string_view url) {
  auto parsed = ParseKafkaUrl(std::string(url));
  if (!parsed) return std::unexpected(parsed.error());
  return {};
}

core::Result<std::unique_ptr<ports::EventSink>> OpenEventSink(std::string_view url,
                                                              const EventOptions& options) {
  auto parsed = ParseKafkaUrl(std::string(url));
  if (!parsed) return std::unexpected(parsed.error());
  ProducerOptions producer;
  producer.brokers = parsed->brokers;
  producer.topic = parsed->topic;
  producer.spool_dir = options.spool_dir;
  producer.spool_max_bytes = options.spool_max_bytes;
  auto sink = KafkaEventSink::Open(std::move(producer));
  if (!sink) return std::unexpected(sink.error());
  return std::unique_ptr<ports::EventSink>(std::move(*sink));
}

core::Result<std::unique_ptr<ports::ClickSource>> OpenClickSource(std::string_view url,
                                                                  const EventOptions& options) {
  auto parsed = ParseKafkaUrl(std::string(url));
  if (!parsed) return std::unexpected(parsed.error());
  ConsumerOptions consumer;
  consumer.brokers = parsed->brokers;
  consumer.topic = parsed->topic;
  consumer.group = options.group;
  consumer.session_timeout = options.session_timeout;
  // Retry refused connections within a second (librdkafka's default backs off to 10 s), so a
  // worker resumes soon after the brokers are back.
  consumer.extra["reconnect.backoff.max.ms"] = "1000";
  consumer.heartbeat_interval =
      std::chrono::milliseconds(std::max<std::int64_t>(100, options.session_timeout.count() / 10));
  auto source = KafkaClickSource::Open(std::move(consumer));
  if (!source) return std::unexpected(source.error());
  return std::unique_ptr<ports::ClickSource>(std::move(*source));
}

}  // namespace kurz::adapters::kafka
