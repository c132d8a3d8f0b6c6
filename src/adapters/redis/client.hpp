#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string_view>
#include <vector>

#include "adapters/redis/connection.hpp"
#include "adapters/redis/key_slot.hpp"
#include "adapters/redis/redis_url.hpp"
#include "core/error.hpp"

namespace kurz::adapters::redis {

// A thread-safe Redis client over hiredis' synchronous API: a small pool of connections per
// server, and for redis-cluster:// the slot routing that hiredis 0.14 lacks: keys hash to slots
// (CRC16, hash tags), a slot map loaded with CLUSTER SLOTS, MOVED (the slot moved: remember the
// new owner, reload the map) and ASK (the slot is being migrated: ASKING, then the command, on
// the named node) followed transparently.
//
// Failures never hang: every exchange is bounded by options.timeout, a failed node fails fast
// for options.down_for, and the client reconnects by itself when the server is back.
// Construction does not connect, so a process can start while Redis is down.
class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // A client for a redis:// or redis-cluster:// URL (see ParseRedisUrl).
  static core::Result<std::unique_ptr<RedisClient>> Open(std::string_view url);

  // Runs one command whose keys all hash to key's slot, on the server holding that slot.
  // Redis error replies other than redirections come back as replies; unavailable when no
  // server answered in time.
  core::Result<Reply> Command(std::string_view key, Args args);

  // Runs several commands whose keys all hash to key's slot in one round trip (per redirection),
  // returning one reply each, in order. Not atomic: when it fails (unavailable), some of the
  // commands may have run. During a slot migration the commands answered with ASK are sent on to
  // the importing node, the others stay answered by the old one.
  core::Result<std::vector<Reply>> Pipeline(std::string_view key, std::span<const Args> commands);

  // Commands whose keys all hash to key's slot (for PipelineGroups).
  struct CommandGroup {
    std::string_view key;
    std::span<const Args> commands;
  };
  // Runs many groups in one round trip per node (all the groups whose slots it holds), returning
  // each group's replies in order; commands answered with a redirection are sent on through
  // Pipeline. Not atomic: when it fails (unavailable), some of the commands may have run.
  core::Result<std::vector<std::vector<Reply>>> PipelineGroups(
      std::span<const CommandGroup> groups);

  // Runs a command that any node can answer (PUBLISH, which a cluster forwards to every node;
  // PING) on the node that answered last time, trying a second node when it fails.
  core::Result<Reply> CommandOnAnyNode(Args args);

  // OK when a server answers PING in time.
  core::Result<void> Ping();

  // Servers to subscribe on, best first: the cluster's masters as last seen, then the seeds.
  std::vector<Endpoint> SubscribeCandidates() const;

  const RedisOptions& options() const { return options_; }

  struct Stats {
    std::uint64_t moved = 0;           // MOVED redirections followed
    std::uint64_t asked = 0;           // ASK redirections followed
    std::uint64_t slot_map_loads = 0;  // successful CLUSTER SLOTS reloads
  };
  Stats stats() const;

  // Reloads the slot map now (a no-op outside cluster mode).
  core::Result<void> RefreshSlots();
  // The server the slot map currently gives key's slot to; nullopt when unknown.
  std::optional<Endpoint> NodeForKey(std::string_view key) const;

 private:
  class Node;
  using Clock = std::chrono::steady_clock;

  // Runs args on node (preceded by ASKING when asking), within one timeout.
  core::Result<Reply> RunOn(Node& node, Args args, bool asking);
  Node* Route(std::uint16_t slot);
  Node* NodeAt(const Endpoint& endpoint);
  // Reloads the slot map unless another thread is at it or the last try was too recent.
  void MaybeRefreshSlots();
  core::Result<void> LoadSlots(Deadline deadline);

  RedisOptions options_;
  mutable std::shared_mutex map_mu_;
  std::vector<std::unique_ptr<Node>> nodes_;  // seeds first; only appended, so Node* stay valid
  std::array<std::int16_t, kClusterSlots> slots_{};  // index into nodes_; -1 unknown
  bool slots_known_ = false;                         // under map_mu_
  std::atomic<bool> slots_stale_{false};             // a failure or MOVED: reload soon
  std::mutex refresh_mu_;
  Clock::time_point last_refresh_try_{};   // under refresh_mu_
  std::atomic<std::size_t> preferred_{0};  // CommandOnAnyNode's first choice
  std::atomic<std::uint64_t> moved_{0};
  std::atomic<std::uint64_t> asked_{0};
  std::atomic<std::uint64_t> slot_map_loads_{0};
};

}  // namespace kurz::adapters::redis
