#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/redis/client.hpp"
#include "ports/invalidation_bus.hpp"

namespace kurz::adapters::redis {

using core::Result;

// The invalidation bus on Redis pub/sub: Publish is PUBLISH on the channel (any node of a
// cluster: Redis Cluster forwards messages to every node), and one background thread holds a
// SUBSCRIBE connection to one server. That thread pings the server every heartbeat, and when
// the connection fails or a ping goes unanswered it reconnects with exponential backoff (50 ms
// up to 2 s), moving to the next cluster node, and then tells the handlers that messages may
// have been lost.
class RedisInvalidationBus final : public ports::InvalidationBus {
 public:
  explicit RedisInvalidationBus(RedisClient& client, std::string channel = "kurz:invalidate",
                                std::chrono::milliseconds heartbeat = std::chrono::seconds(1));
  ~RedisInvalidationBus() override;  // stops and joins the thread
  RedisInvalidationBus(const RedisInvalidationBus&) = delete;
  RedisInvalidationBus& operator=(const RedisInvalidationBus&) = delete;

  Result<void> Publish(std::string_view code) override;
  Result<void> Subscribe(Handler handler) override;

  // Whether the subscription is up right now (for readiness reports).
  bool subscribed() const;
  // How many times a subscription was set up after it had been lost (or never made).
  std::uint64_t resubscriptions() const { return resubscriptions_.load(); }

 private:
  void Run();
  // Reads messages until the connection fails or the bus stops.
  void Listen(Connection& connection);
  void Deliver(const ports::Invalidation& message);
  // Sleeps for delay unless the bus stops first; false when it stops.
  bool Sleep(std::chrono::milliseconds delay);

  RedisClient& client_;
  const std::string channel_;
  const std::chrono::milliseconds heartbeat_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;           // under mu_
  bool subscribed_ = false;     // under mu_
  std::uint64_t attempts_ = 0;  // finished subscription attempts, under mu_
  std::shared_ptr<const std::vector<Handler>> handlers_ =
      std::make_shared<const std::vector<Handler>>();  // copied on write, under mu_
  std::atomic<std::uint64_t> resubscriptions_{0};
  std::thread thread_;  // started by the first Subscribe
};

}  // namespace kurz::adapters::redis
