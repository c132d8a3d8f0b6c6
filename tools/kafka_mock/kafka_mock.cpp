// A librdkafka mock Kafka cluster as its own process, for tests and benchmarks:
//
//   kurz_kafka_mock [--brokers 3] [--partitions 12] [--topic click-events] [--bootstrap-file PATH]
//
// Prints the bootstrap servers as one line on stdout (and writes them to PATH, atomically), then
// waits for signals: SIGUSR1 takes every broker down, SIGUSR2 brings them all up again,
// SIGTERM/SIGINT exit 0. Bad flags exit 2, a cluster that cannot be set up exits 1.
#include <librdkafka/rdkafka.h>
// rdkafka_mock.h needs rdkafka.h first.
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

struct Flags {
  int brokers = 3;
  int partitions = 12;
  std::string topic = "click-events";
  std::string bootstrap_file;
};

constexpr std::string_view kUsage =
    "usage: kurz_kafka_mock [--brokers N] [--partitions N] [--topic NAME] "
    "[--bootstrap-file PATH]";

std::optional<int> PositiveInt(std::string_view s) {
  int value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 1 || value > 10000) {
    return std::nullopt;
  }
  return value;
}

// The flags, or a message saying what is wrong with them.
std::optional<Flags> ParseFlags(int argc, char** argv, std::string& error) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) {
      error = flag.starts_with("--") ? std::string(flag) + " needs a value"
                                     : "unexpected argument " + std::string(flag);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    if (flag == "--brokers" || flag == "--partitions") {
      const std::optional<int> n = PositiveInt(value);
      if (!n) {
        error = std::string(flag) + " needs a positive number, not '" + std::string(value) + "'";
        return std::nullopt;
      }
      (flag == "--brokers" ? flags.brokers : flags.partitions) = *n;
    } else if (flag == "--topic" && !value.empty()) {
      flags.topic = value;
    } else if (flag == "--bootstrap-file" && !value.empty()) {
      flags.bootstrap_file = value;
    } else {
      error = "unknown flag or empty value: " + std::string(flag);
      return std::nullopt;
    }
  }
  return flags;
}

// Writes a temporary file next to path and renames it over path, so readers never see a part.
bool WriteAtomically(const std::string& path, const std::string& line) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << line << '\n';
    out.flush();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

void SetAllBrokers(rd_kafka_mock_cluster_t* cluster, int brokers, bool up) {
  for (int id = 1; id <= brokers; ++id) {
    const rd_kafka_resp_err_t err =
        up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id);
    if (err) std::cerr << "kafka_mock: broker " << id << ": " << rd_kafka_err2str(err) << '\n';
  }
  std::cerr << "kafka_mock: all " << brokers << " brokers " << (up ? "up" : "down") << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const std::optional<Flags> flags = ParseFlags(argc, argv, error);
  if (!flags) {
    std::cerr << "kurz_kafka_mock: " << error << '\n' << kUsage << '\n';
    return 2;
  }

  // Blocked before librdkafka starts its threads, so they inherit the mask and every one of
  // these signals waits for sigwait below: nothing runs in a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The mock cluster needs a parent client handle; a producer that never produces will do.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));  // no bootstrap warning
  rd_kafka_t* parent = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (parent == nullptr) {
    std::cerr << "kurz_kafka_mock: rd_kafka_new: " << errstr << '\n';
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(parent, flags->brokers);
  if (cluster == nullptr) {
    std::cerr << "kurz_kafka_mock: could not create the mock cluster\n";
    rd_kafka_destroy(parent);
    return 1;
  }
  const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
      cluster, flags->topic.c_str(), flags->partitions, std::min(3, flags->brokers));
  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
  int status = 0;
  if (err) {
    std::cerr << "kurz_kafka_mock: topic " << flags->topic << ": " << rd_kafka_err2str(err) << '\n';
    status = 1;
  } else if (!flags->bootstrap_file.empty() &&
             !WriteAtomically(flags->bootstrap_file, bootstraps)) {
    std::cerr << "kurz_kafka_mock: cannot write " << flags->bootstrap_file << '\n';
    status = 1;
  } else {
    std::cout << bootstraps << std::endl;
  }

  while (status == 0) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      SetAllBrokers(cluster, flags->brokers, false);
    } else if (sig == SIGUSR2) {
      SetAllBrokers(cluster, flags->brokers, true);
    } else {
      break;  // SIGTERM, SIGINT
    }
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(parent);
  return status;
}
