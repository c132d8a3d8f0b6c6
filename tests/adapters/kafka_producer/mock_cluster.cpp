#include "mock_cluster.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "adapters/kafka/producer.hpp"

namespace kurz::adapters::kafka::testing {

MockCluster::MockCluster(const std::string& topic, int partitions) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk_ == nullptr) throw std::runtime_error(std::string("mock cluster handle: ") + errstr);
  mc_ = rd_kafka_handle_mock_cluster(rk_);
  if (mc_ == nullptr) throw std::runtime_error("no mock cluster");
  if (rd_kafka_mock_topic_create(mc_, topic.c_str(), partitions, 3) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("mock topic create failed");
  }
  bootstraps_ = rd_kafka_mock_cluster_bootstraps(mc_);
}

MockCluster::~MockCluster() { rd_kafka_destroy(rk_); }

void MockCluster::SetAllDown() {
  for (int32_t id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_down(mc_, id);
}

void MockCluster::SetAllUp() {
  for (int32_t id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_up(mc_, id);
}

void MockCluster::SetRtt(int rtt_ms) {
  for (int32_t id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_rtt(mc_, id, rtt_ms);
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<ConsumedMessage> ReadTopic(const std::string& bootstraps, const std::string& topic,
                                       std::chrono::milliseconds timeout) {
  std::vector<ConsumedMessage> out;
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, const char*> settings[] = {
      {"bootstrap.servers", bootstraps.c_str()},
      {"group.id", "kurz-test-reader"},  // needed by the API; assign() uses no group protocol
      {"enable.auto.commit", "false"},
      {"auto.offset.reset", "earliest"},
      {"log_level", "3"},
  };
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      ADD_FAILURE() << name << ": " << errstr;
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    ADD_FAILURE() << "consumer: " << errstr;
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left_ms = [&] {
    return static_cast<int>(std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now())
               .count()));
  };

  int partitions = 0;
  {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, rkt, &md, left_ms()) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1) {
      partitions = md->topics[0].partition_cnt;
    }
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
  }
  EXPECT_GT(partitions, 0) << "no metadata for " << topic;

  std::vector<std::int64_t> high(static_cast<std::size_t>(partitions), 0);
  std::int64_t total = 0;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0;
    std::int64_t hi = 0;
    const auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, left_ms());
    EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    high[static_cast<std::size_t>(p)] = hi;
    total += hi - lo;
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);

  while (static_cast<std::int64_t>(out.size()) < total &&
         std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        m->offset < high[static_cast<std::size_t>(m->partition)]) {
      ConsumedMessage c;
      c.partition = m->partition;
      c.offset = m->offset;
      if (m->key != nullptr) c.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) c.payload.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const void* value = nullptr;
        std::size_t size = 0;
        if (rd_kafka_header_get_last(headers, kReplayedHeader, &value, &size) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          c.replayed = size == 1 && *static_cast<const char*>(value) == '1';
        }
      }
      out.push_back(std::move(c));
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_EQ(static_cast<std::int64_t>(out.size()), total) << "timed out reading " << topic;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::sort(out.begin(), out.end(), [](const ConsumedMessage& a, const ConsumedMessage& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return out;
}

std::int32_t JavaPartition(const std::string& key, std::int32_t partitions) {
  // org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c.
  const std::uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t length = key.size();
  std::uint32_t h = 0x9747b28cu ^ static_cast<std::uint32_t>(length);
  const std::size_t blocks = length / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k = std::uint32_t{data[i * 4]} | std::uint32_t{data[i * 4 + 1]} << 8 |
                      std::uint32_t{data[i * 4 + 2]} << 16 | std::uint32_t{data[i * 4 + 3]} << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::size_t tail = blocks * 4;
  switch (length % 4) {
    case 3:
      h ^= std::uint32_t{data[tail + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= std::uint32_t{data[tail + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= data[tail];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>((h & 0x7fffffffu) % static_cast<std::uint32_t>(partitions));
}

}  // namespace kurz::adapters::kafka::testing
