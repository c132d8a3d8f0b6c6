#include "adapters/redis/invalidation_bus.hpp"

#include <algorithm>
#include <utility>

#include "adapters/redis/guard.hpp"

namespace kurz::adapters::redis {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{250};
// How long Listen waits for data before it checks for stop and heartbeats.
constexpr std::chrono::milliseconds kPollSlice{50};

bool IsPush(const Reply& reply, std::string_view kind, std::size_t size) {
  return reply.type == Reply::Type::kArray && reply.elements.size() == size &&
         reply.elements[0].type == Reply::Type::kString && reply.elements[0].str == kind;
}

}  // namespace

RedisInvalidationBus::RedisInvalidationBus(RedisClient& client, std::string channel,
                                           std::chrono::milliseconds heartbeat)
    : client_(client), channel_(std::move(channel)), heartbeat_(heartbeat) {}

RedisInvalidationBus::~RedisInvalidationBus() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<void> RedisInvalidationBus::Publish(std::string_view code) {
  return Guard([&]() -> Result<void> {
    const std::string_view args[] = {"PUBLISH", channel_, code};
    // Every instance publishes through the node that holds the channel name's slot, so that
    // all messages take one path and arrive in the order they were sent; any node will do when
    // that one is down (a cluster forwards messages to every node).
    auto reply = client_.Command(channel_, args);
    if (!reply && reply.error().code == core::ErrorCode::kUnavailable &&
        client_.options().cluster) {
      reply = client_.CommandOnAnyNode(args);
    }
    if (!reply) return std::unexpected(reply.error());
    if (reply->type != Reply::Type::kInteger) {
      return core::Fail(core::ErrorCode::kInternal,
                        "redis PUBLISH: " + (reply->IsError() ? reply->str : "unexpected reply"));
    }
    return {};
  });
}

Result<void> RedisInvalidationBus::Subscribe(Handler handler) {
  return Guard([&]() -> Result<void> {
    std::unique_lock lock(mu_);
    auto next = std::make_shared<std::vector<Handler>>(*handlers_);
    next->push_back(std::move(handler));
    handlers_ = std::move(next);
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    // Wait for the first attempt that starts after this call, at most a few timeouts: the
    // first connection costs a connect, a SUBSCRIBE and its confirmation.
    const std::uint64_t seen = attempts_;
    const auto deadline = Clock::now() + 4 * client_.options().timeout;
    cv_.wait_until(lock, deadline, [&] { return subscribed_ || stop_ || attempts_ > seen; });
    if (subscribed_) return {};
    return core::Fail(core::ErrorCode::kUnavailable, "redis: cannot subscribe to " + channel_ +
                                                         " now; retrying in the background");
  });
}

bool RedisInvalidationBus::subscribed() const {
  std::lock_guard lock(mu_);
  return subscribed_;
}

void RedisInvalidationBus::Deliver(const ports::Invalidation& message) {
  std::shared_ptr<const std::vector<Handler>> handlers;
  {
    std::lock_guard lock(mu_);
    handlers = handlers_;
  }
  for (const Handler& handler : *handlers) {
    try {
      handler(message);
    } catch (...) {
      // A throwing handler must not end the thread (std::terminate); the others still run.
    }
  }
}

bool RedisInvalidationBus::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, delay, [&] { return stop_; });
}

void RedisInvalidationBus::Run() {
  std::chrono::milliseconds backoff = kFirstBackoff;
  bool missed = false;  // messages may have been published while we were not subscribed
  std::size_t pick = 0;
  const std::string_view subscribe[] = {"SUBSCRIBE", channel_};
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    const std::vector<Endpoint> candidates = client_.SubscribeCandidates();
    std::unique_ptr<Connection> connection;
    if (!candidates.empty()) {
      const Endpoint& endpoint = candidates[pick % candidates.size()];
      const Deadline deadline = Clock::now() + client_.options().timeout;
      auto opened = Connection::Open(endpoint, client_.options(), deadline);
      if (opened && (*opened)->Send(subscribe, deadline)) {
        // The confirmation: ["subscribe", channel, count].
        if (auto confirmed = (*opened)->Read(deadline); confirmed) {
          const std::optional<Reply>& push = *confirmed;
          if (push && IsPush(*push, "subscribe", 3)) connection = std::move(*opened);
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      ++attempts_;
      subscribed_ = connection != nullptr;
    }
    cv_.notify_all();
    if (!connection) {
      missed = true;
      ++pick;  // in a cluster, try another node next time
      if (!Sleep(backoff)) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = kFirstBackoff;
    if (missed) {
      resubscriptions_.fetch_add(1);
      Deliver(ports::Invalidation{.code = {}, .lost = true});
    }
    Listen(*connection);
    // From here on messages may be missed until the next subscription is up.
    missed = true;
    ++pick;
    {
      std::lock_guard lock(mu_);
      subscribed_ = false;
    }
  }
}

void RedisInvalidationBus::Listen(Connection& connection) {
  const std::string_view ping[] = {"PING"};
  auto last_ping = Clock::now();
  bool ping_outstanding = false;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    auto reply = connection.Read(Clock::now() + kPollSlice);
    if (!reply) return;  // the connection failed
    if (const std::optional<Reply>& got = *reply) {
      const Reply& push = *got;
      if (IsPush(push, "message", 3) && push.elements[1].str == channel_) {
        Deliver(ports::Invalidation{.code = push.elements[2].str, .lost = false});
      } else if (IsPush(push, "pong", 2)) {
        ping_outstanding = false;
      }
      continue;
    }
    if (Clock::now() - last_ping < heartbeat_) continue;
    // A ping still unanswered after a whole heartbeat: the server hangs or the network is gone.
    if (ping_outstanding) return;
    if (!connection.Send(ping, Clock::now() + client_.options().timeout)) return;
    ping_outstanding = true;
    last_ping = Clock::now();
  }
}

}  // namespace kurz::adapters::redis
