#include "adapters/kafka_consumer/kafka_mock_process.hpp"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace kurz::testing {
namespace {

using Clock = std::chrono::steady_clock;

pid_t Spawn(const std::vector<std::string>& args, int stdout_fd) {
  std::vector<char*> argv;
  std::string path = KURZ_KAFKA_MOCK;
  argv.push_back(path.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  pid_t pid = -1;
  if (posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Waits for pid to exit until deadline: its exit code, or nullopt (killed and reaped then).
std::optional<int> WaitExit(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return std::nullopt;
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status)) return std::nullopt;
  return WEXITSTATUS(status);
}

}  // namespace

KafkaMockProcess::KafkaMockProcess(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  pid_ = Spawn(args, fds[1]);
  close(fds[1]);
  std::string line;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  while (pid_ > 0 && line.find('\n') == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[256];
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (const std::size_t end = line.find('\n'); end != std::string::npos) {
    bootstraps_ = line.substr(0, end);
  }
}

KafkaMockProcess::~KafkaMockProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool KafkaMockProcess::Signal(int sig) const { return pid_ > 0 && kill(pid_, sig) == 0; }
void KafkaMockProcess::Down() const { EXPECT_TRUE(Signal(SIGUSR1)); }
void KafkaMockProcess::Up() const { EXPECT_TRUE(Signal(SIGUSR2)); }

std::optional<int> KafkaMockProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  kill(pid_, SIGTERM);
  const std::optional<int> code = WaitExit(pid_, Clock::now() + timeout);
  pid_ = -1;
  return code;
}

std::optional<int> RunKafkaMock(const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout) {
  const pid_t pid = Spawn(args, -1);
  if (pid <= 0) return std::nullopt;
  return WaitExit(pid, Clock::now() + timeout);
}

namespace {

struct Deliveries {
  std::vector<ProducedRecord>* produced;
  int failed = 0;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  const auto index = reinterpret_cast<std::uintptr_t>(m->_private);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++d->failed;
    return;
  }
  (*d->produced)[index].offset = m->offset;
}

}  // namespace

std::vector<ProducedRecord> Produce(const std::string& bootstraps, const std::string& topic,
                                    const std::vector<TestRecord>& records) {
  std::vector<ProducedRecord> produced;
  for (const TestRecord& r : records) produced.push_back({r, -1});
  Deliveries deliveries{&produced};
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "message.timeout.ms", "10000", errstr, sizeof(errstr));
  rd_kafka_conf_set_dr_msg_cb(conf, &OnDelivery);
  rd_kafka_conf_set_opaque(conf, &deliveries);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    ADD_FAILURE() << "producer: " << errstr;
    return {};
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const TestRecord& r = records[i];
    rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
    if (r.replayed_header) {
      rd_kafka_header_add(headers, "kurz-replayed", -1, r.replayed_header->data(),
                          static_cast<ssize_t>(r.replayed_header->size()));
    }
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
        RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(r.payload.data()), r.payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(i))), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);
      ADD_FAILURE() << "produce: " << rd_kafka_err2str(err);
    }
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 15000);
  rd_kafka_destroy(rk);
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR || deliveries.failed > 0) {
    ADD_FAILURE() << "not every record was delivered: " << rd_kafka_err2str(flushed) << ", "
                  << deliveries.failed << " failed";
    return {};
  }
  return produced;
}

}  // namespace kurz::testing
