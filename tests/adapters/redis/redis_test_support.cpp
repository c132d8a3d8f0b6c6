#include "adapters/redis/redis_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace kurz::testing {
namespace {

using adapters::redis::Args;
using adapters::redis::Connection;
using adapters::redis::Endpoint;
using adapters::redis::Reply;
using Clock = std::chrono::steady_clock;

std::string RequireEnv(const char* name, const char* start, const char* url) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(
        std::string(name) + " is not set: start the test server with `scripts/services/redis " +
        start + "` and `export " + name + "=$(scripts/services/redis " + url + ")`");
  }
  return value;
}

bool PortIsFree(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return free;
}

}  // namespace

std::string SingleRedisUrl() { return RequireEnv("KURZ_TEST_REDIS_URL", "start", "url"); }

std::string ClusterRedisUrl() {
  return RequireEnv("KURZ_TEST_REDIS_CLUSTER_URL", "cluster-start", "cluster-url");
}

std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  return "kurz-test:" + std::to_string(::getpid()) + ":" + std::to_string(counter.fetch_add(1)) +
         ":";
}

adapters::redis::RedisOptions OptionsFor(const std::string& url) {
  auto options = adapters::redis::ParseRedisUrl(url);
  if (!options) throw std::runtime_error(options.error().detail);
  return *options;
}

Reply RunOn(const Endpoint& endpoint, std::vector<std::string> args) {
  adapters::redis::RedisOptions options;
  options.timeout = std::chrono::milliseconds(2000);
  const auto deadline = Clock::now() + options.timeout;
  auto connection = Connection::Open(endpoint, options, deadline);
  if (!connection) throw std::runtime_error(connection.error().detail);
  std::vector<std::string_view> views(args.begin(), args.end());
  auto reply = (*connection)->Command(views, deadline);
  if (!reply) throw std::runtime_error(reply.error().detail);
  return std::move(*reply);
}

void DeleteKeysWithPrefix(const std::string& url, const std::string& prefix) {
  try {
    for (const Endpoint& endpoint : OptionsFor(url).nodes) {
      std::string cursor = "0";
      do {
        Reply page = RunOn(endpoint, {"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
        if (page.type != Reply::Type::kArray || page.elements.size() != 2) break;
        cursor = page.elements[0].str;
        for (const Reply& key : page.elements[1].elements) {
          RunOn(endpoint, {"DEL", key.str});  // SCAN on a cluster node lists its own keys
        }
      } while (cursor != "0");
    }
  } catch (const std::exception&) {
    // Cleanup only: the servers keep nothing on disk anyway.
  }
}

RedisPorts::RedisPorts(const std::string& url) : url_(url), prefix_(UniquePrefix()) {
  for (int i = 0; i < 2; ++i) {
    client_[i] = std::make_unique<adapters::redis::RedisClient>(OptionsFor(url));
    cache_[i] = std::make_unique<adapters::redis::RedisSharedCache>(*client_[i], prefix_);
    limits_[i] = std::make_unique<adapters::redis::RedisRateLimitStore>(*client_[i], prefix_);
    counters_[i] = std::make_unique<adapters::redis::RedisRealtimeCounters>(*client_[i], prefix_);
    bus_[i] = std::make_unique<adapters::redis::RedisInvalidationBus>(*client_[i],
                                                                      prefix_ + "invalidate");
  }
}

RedisPorts::~RedisPorts() {
  for (auto& bus : bus_) bus.reset();  // stop the subscriber threads first
  DeleteKeysWithPrefix(url_, prefix_);
}

TestRedisServer::TestRedisServer() {
  // Ports below 32768 (outside Linux's ephemeral range), spread by pid so parallel tests rarely
  // try the same one first.
  constexpr std::uint16_t kFirst = 26400;
  constexpr std::uint16_t kCount = 1000;
  const auto start = static_cast<std::uint16_t>(::getpid() % kCount);
  for (std::uint16_t i = 0; i < kCount && port_ == 0; ++i) {
    const auto candidate = static_cast<std::uint16_t>(kFirst + (start + i) % kCount);
    if (PortIsFree(candidate)) port_ = candidate;
  }
  if (port_ == 0) throw std::runtime_error("no free port for a test redis-server");
  dir_ = "/tmp/kurz-test-redis/private-" + std::to_string(::getpid()) + "-" + std::to_string(port_);
  std::filesystem::create_directories(dir_);
}

TestRedisServer::~TestRedisServer() {
  if (pid_ > 0) Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestRedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

void TestRedisServer::Start() {
  if (pid_ > 0) return;
  const std::string port = std::to_string(port_);
  const std::string log = dir_ + "/redis.log";
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   port,
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--logfile",
                                   log,
                                   "--daemonize",
                                   "no",
                                   "--protected-mode",
                                   "yes"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawnp(&pid, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error(
        "cannot run redis-server: install it with `scripts/install-deps --test`");
  }
  pid_ = pid;
  paused_ = false;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    try {
      if (RunOn({"127.0.0.1", port_}, {"PING"}).str == "PONG") return;
    } catch (const std::exception&) {
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server on port " + port + " exited at start (see " + log +
                               ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis-server on port " + port + " does not answer PING");
}

void TestRedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  paused_ = false;
}

void TestRedisServer::Pause() {
  if (pid_ > 0 && !paused_) {
    ::kill(pid_, SIGSTOP);
    paused_ = true;
  }
}

void TestRedisServer::Resume() {
  if (pid_ > 0 && paused_) {
    ::kill(pid_, SIGCONT);
    paused_ = false;
  }
}

}  // namespace kurz::testing
