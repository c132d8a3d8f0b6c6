#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace kurz::adapters::kafka::testing {

// A librdkafka mock cluster of 3 brokers in this process, with one topic (replication 3).
class MockCluster {
 public:
  explicit MockCluster(const std::string& topic, int partitions = 12);
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;
  ~MockCluster();

  const std::string& bootstraps() const { return bootstraps_; }
  void SetAllDown();
  void SetAllUp();
  void SetRtt(int rtt_ms);  // every broker answers this much later

 private:
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* mc_ = nullptr;
  std::string bootstraps_;
};

struct ConsumedMessage {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string key;
  std::string payload;
  bool replayed = false;  // header kurz-replayed=1
};

// Every message in `topic` (up to the high watermarks read first), by partition then offset.
// Fails the calling test (and returns what it got) when they do not all arrive within `timeout`.
std::vector<ConsumedMessage> ReadTopic(
    const std::string& bootstraps, const std::string& topic,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Polls `done` every 10 ms until it is true or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// The partition Kafka's Java client picks for a key: murmur2, positive, modulo.
std::int32_t JavaPartition(const std::string& key, std::int32_t partitions);

}  // namespace kurz::adapters::kafka::testing
