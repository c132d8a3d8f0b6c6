#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/redis/client.hpp"
#include "adapters/redis/connection.hpp"
#include "adapters/redis/invalidation_bus.hpp"
#include "adapters/redis/rate_limit_store.hpp"
#include "adapters/redis/realtime_counters.hpp"
#include "adapters/redis/redis_url.hpp"
#include "adapters/redis/shared_cache.hpp"

// Shared by the Redis tests: the URLs of the test servers started by scripts/services/redis,
// unique key prefixes (test processes share the servers and may run in parallel), and a private
// redis-server process for the tests that stop, pause and restart a server.
namespace kurz::testing {

// $KURZ_TEST_REDIS_URL; throws (failing the test, not skipping it) with the commands that start
// the server when it is unset.
std::string SingleRedisUrl();
// $KURZ_TEST_REDIS_CLUSTER_URL, likewise.
std::string ClusterRedisUrl();

// "kurz-test:<pid>:<n>:" with n counting up in this process.
std::string UniquePrefix();

adapters::redis::RedisOptions OptionsFor(const std::string& url);

// Runs one command on one server, outside the client under test; throws on failure.
adapters::redis::Reply RunOn(const adapters::redis::Endpoint& endpoint,
                             std::vector<std::string> args);

// Deletes the keys starting with prefix from every server named by url (best effort).
void DeleteKeysWithPrefix(const std::string& url, const std::string& prefix);

// The Redis adapters as two instances would have them: each instance its own client, on
// the same server(s) and key prefix.
class RedisPorts {
 public:
  explicit RedisPorts(const std::string& url);
  ~RedisPorts();

  ports::SharedCache& Cache() { return *cache_[0]; }
  ports::SharedCache& OtherCache() { return *cache_[1]; }
  ports::InvalidationBus& Bus() { return *bus_[0]; }
  ports::InvalidationBus& OtherBus() { return *bus_[1]; }
  ports::RateLimitStore& Limits() { return *limits_[0]; }
  ports::RateLimitStore& OtherLimits() { return *limits_[1]; }
  ports::RealtimeCounters& Counters() { return *counters_[0]; }
  ports::RealtimeCounters& OtherCounters() { return *counters_[1]; }

 private:
  std::string url_;
  std::string prefix_;
  std::unique_ptr<adapters::redis::RedisClient> client_[2];
  std::unique_ptr<adapters::redis::RedisSharedCache> cache_[2];
  std::unique_ptr<adapters::redis::RedisRateLimitStore> limits_[2];
  std::unique_ptr<adapters::redis::RedisRealtimeCounters> counters_[2];
  std::unique_ptr<adapters::redis::RedisInvalidationBus> bus_[2];
};

struct RedisSingleBackend : RedisPorts {
  RedisSingleBackend() : RedisPorts(SingleRedisUrl()) {}
};

struct RedisClusterBackend : RedisPorts {
  RedisClusterBackend() : RedisPorts(ClusterRedisUrl()) {}
};

// A redis-server of the test's own on 127.0.0.1 (a free port below 32768), which the test may
// kill, pause and start again on the same port. Killed when destroyed.
class TestRedisServer {
 public:
  TestRedisServer();
  ~TestRedisServer();
  TestRedisServer(const TestRedisServer&) = delete;
  TestRedisServer& operator=(const TestRedisServer&) = delete;

  // Starts the server and waits until it answers PING; throws on failure.
  void Start();
  // SIGKILL, as in a crash; the port is free again when this returns.
  void Kill();
  // SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing.
  void Pause();
  void Resume();

  std::uint16_t port() const { return port_; }
  std::string url() const;

 private:
  std::uint16_t port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace kurz::testing
