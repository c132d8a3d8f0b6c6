#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "ports/click_source.hpp"

// librdkafka's handle types, so that this header does not pull in rdkafka.h.
struct rd_kafka_s;
struct rd_kafka_topic_partition_list_s;

namespace kurz::adapters::kafka {

struct ConsumerOptions {
  std::string brokers;  // "h1:p1,h2:p2"
  std::string topic;
  std::string group;  // consumer group id
  // A member that stops heartbeating for this long is dropped and its partitions move on.
  std::chrono::milliseconds session_timeout{6000};
  std::chrono::milliseconds heartbeat_interval{500};
  // More librdkafka settings. Those the adapter depends on (manual commits and offset stores,
  // auto.offset.reset=earliest) cannot be overridden; partition.assignment.strategy may name
  // eager assignors only (range, roundrobin).
  std::map<std::string, std::string> extra;
};

// ClickSource over librdkafka's high-level consumer (C API): one member of options.group
// reading options.topic. Offsets are committed only through Commit; a rebalance asks OnAssign
// where to start and calls OnRevoke before partitions go (eager protocol: a rebalance revokes
// the whole assignment, then assigns the new one). Rebalance and commit callbacks run inside
// Poll and Close, on the polling thread.
class KafkaClickSource final : public ports::ClickSource {
 public:
  // invalid_argument for empty brokers/topic/group or a setting librdkafka rejects. Does not
  // connect: the brokers may be down.
  static core::Result<std::unique_ptr<KafkaClickSource>> Open(ConsumerOptions options);

  ~KafkaClickSource() override;
  KafkaClickSource(const KafkaClickSource&) = delete;
  KafkaClickSource& operator=(const KafkaClickSource&) = delete;

  core::Result<void> Subscribe(OnAssign on_assign, OnRevoke on_revoke) override;
  // Polls until `max` messages are in or `wait` has passed. Fails on errors the client cannot
  // recover from (a fatal error, an unknown topic, authorization) and when OnAssign fails.
  core::Result<std::size_t> Poll(std::vector<ports::StreamMessage>& out, std::size_t max,
                                 std::chrono::milliseconds wait) override;
  // A failed earlier commit (e.g. the coordinator was unreachable) is reported here, once.
  core::Result<void> Commit(const std::vector<core::StreamPosition>& next) override;
  // rd_kafka_seek_partitions on assigned partitions (waits at most 5 s); messages fetched
  // before the seek are not returned.
  core::Result<void> Seek(const std::vector<core::StreamPosition>& positions) override;
  // Positions are those of the messages Poll returned, else OnAssign's, else the committed
  // offset (asked for once, waiting at most 200 ms), else the low watermark. A high watermark
  // no fetch has reported yet is given as the position (no lag known).
  std::vector<ports::PartitionLag> Lag() override;
  void Close() override;

 private:
  struct Assigned {
    std::int32_t partition = 0;
    std::int64_t position = -1;  // next offset to read; -1 while unknown
    bool asked_committed = false;
  };

  KafkaClickSource(ConsumerOptions options, rd_kafka_s* rk);

  friend struct Callbacks;  // librdkafka's rebalance and commit callbacks (consumer.cpp)

  void Assign(rd_kafka_topic_partition_list_s* parts);
  void Revoke(rd_kafka_topic_partition_list_s* parts);
  void FillUnknownPositions();

  ConsumerOptions options_;
  rd_kafka_s* rk_;
  OnAssign on_assign_;
  OnRevoke on_revoke_;
  bool subscribed_ = false;
  bool closed_ = false;
  std::vector<Assigned> assigned_;
  // Set during Poll: the messages appended so far start at out[from]; a revoke inside the same
  // Poll takes those of the revoked partitions out again.
  std::vector<ports::StreamMessage>* polling_ = nullptr;
  std::size_t polling_from_ = 0;
  // An OnAssign failure, returned by the Poll it happened in.
  std::optional<core::Error> assign_error_;
  // A failed asynchronous commit, returned by the next Commit.
  std::optional<core::Error> commit_error_;
};

}  // namespace kurz::adapters::kafka
