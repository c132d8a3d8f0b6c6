#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kurz::testing {

// tools/kafka_mock (kurz_kafka_mock) as a child process: a mock Kafka cluster on loopback.
class KafkaMockProcess {
 public:
  // Starts the tool with `args` and reads its bootstrap line (empty when it did not print one
  // within 10 s: check ok()).
  explicit KafkaMockProcess(const std::vector<std::string>& args = {});
  ~KafkaMockProcess();  // SIGKILL if still running
  KafkaMockProcess(const KafkaMockProcess&) = delete;
  KafkaMockProcess& operator=(const KafkaMockProcess&) = delete;

  bool ok() const { return pid_ > 0 && !bootstraps_.empty(); }
  const std::string& bootstraps() const { return bootstraps_; }

  bool Signal(int sig) const;
  void Down() const;  // every broker down (SIGUSR1)
  void Up() const;    // every broker up again (SIGUSR2)
  // Sends SIGTERM and waits up to `timeout` for the exit: the exit code, or nullopt when it did
  // not exit (it is then killed) or died of a signal.
  std::optional<int> Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  pid_t pid_ = -1;
  std::string bootstraps_;
};

// Runs kurz_kafka_mock with args to its end: the exit code, nullopt when it ran longer than
// `timeout` (it is then killed) or died of a signal.
std::optional<int> RunKafkaMock(const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout);

// One message to produce; `replayed_header` is the value of header kurz-replayed, if any.
struct TestRecord {
  std::int32_t partition = 0;
  std::string key;
  std::string payload;
  std::optional<std::string> replayed_header;
};

struct ProducedRecord {
  TestRecord record;
  std::int64_t offset = -1;
};

// Produces records with a plain librdkafka producer and waits for every delivery: the records
// with their offsets, or an empty vector (and a gtest failure) when any was not delivered.
std::vector<ProducedRecord> Produce(const std::string& bootstraps, const std::string& topic,
                                    const std::vector<TestRecord>& records);

}  // namespace kurz::testing
