#include "adapters/redis/client.hpp"

#include <algorithm>

#include <charconv>
#include <string>
#include <utility>

namespace kurz::adapters::redis {
namespace {

constexpr int kMaxRedirections = 5;

struct Redirection {
  std::uint16_t slot = 0;
  Endpoint target;
};

// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381"; the host may be empty (the node
// does not know its own address): then it is the host we asked.
std::optional<Redirection> ParseRedirection(std::string_view text, const Endpoint& asked) {
  const auto first = text.find(' ');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = text.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view slot = text.substr(first + 1, second - first - 1);
  const std::string_view address = text.substr(second + 1);
  Redirection redirection;
  const auto [end, ec] = std::from_chars(slot.data(), slot.data() + slot.size(), redirection.slot);
  if (ec != std::errc() || end != slot.data() + slot.size() || redirection.slot >= kClusterSlots) {
    return std::nullopt;
  }
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port = address.substr(colon + 1);
  unsigned value = 0;
  const auto [pend, pec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (pec != std::errc() || pend != port.data() + port.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  redirection.target.host = host.empty() ? asked.host : std::string(host);
  redirection.target.port = static_cast<std::uint16_t>(value);
  return redirection;
}

core::Error Unavailable(std::string detail) {
  return core::Error{core::ErrorCode::kUnavailable, std::move(detail)};
}

}  // namespace

// One server: its idle connections, and whether it failed a moment ago.
class RedisClient::Node {
 public:
  Node(Endpoint endpoint, const RedisOptions& options)
      : endpoint_(std::move(endpoint)), options_(options) {}

  const Endpoint& endpoint() const { return endpoint_; }

  bool down() const {
    std::lock_guard lock(mu_);
    return Clock::now() < down_until_;
  }

  // Runs the commands on one connection: an idle one, or a new one. A pooled connection that
  // the server closed meanwhile (restart, CLIENT KILL) did not run anything, so that case is
  // retried once on a new connection; any other failure marks the node down for a moment.
  core::Result<std::vector<Reply>> Run(std::span<const Args> commands, Deadline deadline) {
    std::unique_ptr<Connection> connection;
    {
      std::lock_guard lock(mu_);
      if (Clock::now() < down_until_) {
        return std::unexpected(Unavailable("redis " + endpoint_.ToString() +
                                           ": down (it failed less than " +
                                           std::to_string(options_.down_for.count()) + " ms ago)"));
      }
      if (!idle_.empty()) {
        connection = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connection != nullptr;
      if (!reused) {
        auto opened = Connection::Open(endpoint_, options_, deadline);
        if (!opened) {
          if (opened.error().code == core::ErrorCode::kUnavailable) MarkDown();
          return std::unexpected(opened.error());
        }
        connection = std::move(*opened);
      }
      auto replies = connection->Pipeline(commands, deadline);
      if (replies) {
        GiveBack(std::move(connection));
        return replies;
      }
      if (reused && connection->closed_by_peer()) {
        // The others were opened before the same event, most likely: drop them too.
        connection.reset();
        std::lock_guard lock(mu_);
        idle_.clear();
        continue;
      }
      MarkDown();
      return std::unexpected(replies.error());
    }
    return std::unexpected(Unavailable("redis " + endpoint_.ToString() + ": connection lost"));
  }

 private:
  void GiveBack(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mu_);
    if (idle_.size() < options_.max_idle_per_node) idle_.push_back(std::move(connection));
  }

  void MarkDown() {
    std::lock_guard lock(mu_);
    down_until_ = Clock::now() + options_.down_for;
    idle_.clear();
  }

  const Endpoint endpoint_;
  const RedisOptions& options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  Clock::time_point down_until_{};
};

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {
  slots_.fill(-1);
  for (const Endpoint& endpoint : options_.nodes) {
    nodes_.push_back(std::make_unique<Node>(endpoint, options_));
  }
}

RedisClient::~RedisClient() = default;

core::Result<std::unique_ptr<RedisClient>> RedisClient::Open(std::string_view url) {
  auto options = ParseRedisUrl(url);
  if (!options) return std::unexpected(options.error());
  return std::make_unique<RedisClient>(std::move(*options));
}

core::Result<Reply> RedisClient::RunOn(Node& node, Args args, bool asking) {
  const Deadline deadline = Clock::now() + options_.timeout;
  if (!asking) {
    auto replies = node.Run(std::span<const Args>(&args, 1), deadline);
    if (!replies) return std::unexpected(replies.error());
    return std::move(replies->front());
  }
  static constexpr std::string_view kAsking[] = {"ASKING"};
  const Args commands[] = {Args(kAsking), args};
  auto replies = node.Run(commands, deadline);
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->back());
}

core::Result<Reply> RedisClient::Command(std::string_view key, Args args) {
  auto replies = Pipeline(key, std::span<const Args>(&args, 1));
  if (!replies) return std::unexpected(std::move(replies.error()));
  return std::move(replies->front());
}

core::Result<std::vector<std::vector<Reply>>> RedisClient::PipelineGroups(
    std::span<const CommandGroup> groups) {
  if (nodes_.empty()) return std::unexpected(Unavailable("redis: no server configured"));
  std::vector<std::vector<Reply>> out(groups.size());
  // The groups each node holds (one node without a cluster), in order.
  std::vector<std::pair<Node*, std::vector<std::size_t>>> by_node;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    Node* node = options_.cluster ? Route(KeySlot(groups[i].key)) : nodes_.front().get();
    auto it =
        std::ranges::find_if(by_node, [node](const auto& entry) { return entry.first == node; });
    if (it == by_node.end()) it = by_node.insert(by_node.end(), {node, {}});
    it->second.push_back(i);
  }
  std::vector<Args> sent;
  for (const auto& [node, indexes] : by_node) {
    sent.clear();
    for (std::size_t i : indexes)
      sent.insert(sent.end(), groups[i].commands.begin(), groups[i].commands.end());
    auto answered = node->Run(sent, Clock::now() + options_.timeout);
    if (!answered) {
      if (options_.cluster) slots_stale_.store(true, std::memory_order_relaxed);
      return std::unexpected(std::move(answered.error()));
    }
    std::size_t k = 0;
    for (std::size_t i : indexes) {
      const CommandGroup& group = groups[i];
      std::vector<Reply>& replies = out[i];
      std::vector<Args> redirected;
      std::vector<std::size_t> redirected_at;
      for (std::size_t c = 0; c < group.commands.size(); ++c) {
        Reply& reply = (*answered)[k++];
        if (reply.IsError("CLUSTERDOWN") || reply.IsError("TRYAGAIN")) {
          return std::unexpected(
              Unavailable("redis " + node->endpoint().ToString() + ": " + reply.str));
        }
        if (reply.IsError("MOVED") || reply.IsError("ASK")) {
          redirected.push_back(group.commands[c]);
          redirected_at.push_back(c);
        }
        replies.push_back(std::move(reply));
      }
      if (redirected.empty()) continue;
      // Only the redirected commands ran nowhere yet: send those on.
      auto again = Pipeline(group.key, redirected);
      if (!again) return std::unexpected(std::move(again.error()));
      for (std::size_t r = 0; r < redirected_at.size(); ++r) {
        replies[redirected_at[r]] = std::move((*again)[r]);
      }
    }
  }
  return out;
}

core::Result<std::vector<Reply>> RedisClient::Pipeline(std::string_view key,
                                                       std::span<const Args> commands) {
  if (nodes_.empty()) return std::unexpected(Unavailable("redis: no server configured"));
  if (commands.empty()) return std::vector<Reply>{};
  if (!options_.cluster) return nodes_.front()->Run(commands, Clock::now() + options_.timeout);

  const std::uint16_t slot = KeySlot(key);
  Node* node = Route(slot);
  bool asking = false;
  std::vector<Reply> replies(commands.size());
  // The commands still to answer (all at first; then those that were redirected).
  std::vector<std::size_t> pending(commands.size());
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  static constexpr std::string_view kAsking[] = {"ASKING"};
  std::vector<Args> sent;
  for (int hop = 0; hop <= kMaxRedirections; ++hop) {
    // ASKING holds for the one command after it, so each redirected command gets its own.
    sent.clear();
    for (std::size_t i : pending) {
      if (asking) sent.emplace_back(kAsking);
      sent.push_back(commands[i]);
    }
    auto answered = node->Run(sent, Clock::now() + options_.timeout);
    if (!answered) {
      slots_stale_.store(true, std::memory_order_relaxed);  // it may have failed over
      return std::unexpected(std::move(answered.error()));
    }
    std::vector<std::size_t> redirected;
    const Reply* redirection_reply = nullptr;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      Reply& reply = (*answered)[asking ? 2 * k + 1 : k];
      if (reply.IsError("MOVED") || reply.IsError("ASK")) {
        redirected.push_back(pending[k]);
        if (redirection_reply == nullptr) redirection_reply = &reply;
        continue;
      }
      if (reply.IsError("CLUSTERDOWN") || reply.IsError("TRYAGAIN")) {
        return std::unexpected(
            Unavailable("redis " + node->endpoint().ToString() + ": " + reply.str));
      }
      replies[pending[k]] = std::move(reply);
    }
    if (redirected.empty()) return replies;
    const bool moved = redirection_reply->IsError("MOVED");
    const auto redirection = ParseRedirection(redirection_reply->str, node->endpoint());
    if (!redirection) {
      return core::Fail(core::ErrorCode::kInternal,
                        "redis: unexpected redirection '" + redirection_reply->str + "'");
    }
    node = NodeAt(redirection->target);
    asking = !moved;
    pending = std::move(redirected);
    if (moved) {
      moved_.fetch_add(1, std::memory_order_relaxed);
      {
        std::unique_lock lock(map_mu_);
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
          if (nodes_[i].get() == node) slots_[redirection->slot] = static_cast<std::int16_t>(i);
        }
      }
      // Slots move in bulk (resharding, failover): reload the whole map.
      slots_stale_.store(true, std::memory_order_relaxed);
      MaybeRefreshSlots();
    } else {
      asked_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return std::unexpected(Unavailable("redis: more than " + std::to_string(kMaxRedirections) +
                                     " redirections for slot " + std::to_string(slot)));
}

core::Result<Reply> RedisClient::CommandOnAnyNode(Args args) {
  std::vector<Node*> candidates;
  {
    std::shared_lock lock(map_mu_);
    for (const auto& node : nodes_) candidates.push_back(node.get());
  }
  if (candidates.empty()) return std::unexpected(Unavailable("redis: no server configured"));
  // Sticky: the same node while it works, so one caller's commands keep their order.
  const std::size_t start = preferred_.load(std::memory_order_relaxed);
  std::optional<core::Result<Reply>> last;
  int tries = 0;
  for (std::size_t i = 0; i < candidates.size() && tries < 2; ++i) {
    Node& node = *candidates[(start + i) % candidates.size()];
    // Prefer nodes that did not just fail, but try one anyway when all did.
    if (node.down() && (i + 1 < candidates.size() || last.has_value())) continue;
    ++tries;
    auto reply = RunOn(node, args, false);
    if (reply) {
      if (i != 0) preferred_.store((start + i) % candidates.size(), std::memory_order_relaxed);
      return reply;
    }
    last = std::move(reply);
  }
  if (last) return std::move(*last);
  return std::unexpected(Unavailable("redis: every server failed less than " +
                                     std::to_string(options_.down_for.count()) + " ms ago"));
}

core::Result<void> RedisClient::Ping() {
  if (options_.cluster) {
    // A surviving node answers PING while the cluster refuses every keyed command: ask it for
    // the cluster's state instead.
    static constexpr std::string_view kInfo[] = {"CLUSTER", "INFO"};
    auto reply = CommandOnAnyNode(kInfo);
    if (!reply) return std::unexpected(reply.error());
    if (reply->IsError()) return core::Fail(core::ErrorCode::kUnavailable, "redis: " + reply->str);
    if (reply->str.find("cluster_state:ok") == std::string::npos) {
      return core::Fail(core::ErrorCode::kUnavailable, "redis cluster state is not ok");
    }
    return {};
  }
  static constexpr std::string_view kPing[] = {"PING"};
  auto reply = CommandOnAnyNode(kPing);
  if (!reply) return std::unexpected(reply.error());
  if (reply->IsError()) return core::Fail(core::ErrorCode::kUnavailable, "redis: " + reply->str);
  return {};
}

std::vector<Endpoint> RedisClient::SubscribeCandidates() const {
  std::shared_lock lock(map_mu_);
  std::vector<bool> is_master(nodes_.size(), false);
  for (const std::int16_t index : slots_) {
    if (index >= 0) is_master[static_cast<std::size_t>(index)] = true;
  }
  std::vector<Endpoint> endpoints;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (is_master[i]) endpoints.push_back(nodes_[i]->endpoint());
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!is_master[i]) endpoints.push_back(nodes_[i]->endpoint());
  }
  return endpoints;
}

RedisClient::Stats RedisClient::stats() const {
  return Stats{.moved = moved_.load(std::memory_order_relaxed),
               .asked = asked_.load(std::memory_order_relaxed),
               .slot_map_loads = slot_map_loads_.load(std::memory_order_relaxed)};
}

core::Result<void> RedisClient::RefreshSlots() {
  if (!options_.cluster) return {};
  std::lock_guard lock(refresh_mu_);
  last_refresh_try_ = Clock::now();
  return LoadSlots(Clock::now() + options_.timeout);
}

std::optional<Endpoint> RedisClient::NodeForKey(std::string_view key) const {
  std::shared_lock lock(map_mu_);
  if (!options_.cluster) {
    if (nodes_.empty()) return std::nullopt;
    return nodes_.front()->endpoint();
  }
  const std::int16_t index = slots_[KeySlot(key)];
  if (index < 0) return std::nullopt;
  return nodes_[static_cast<std::size_t>(index)]->endpoint();
}

RedisClient::Node* RedisClient::Route(std::uint16_t slot) {
  bool known = false;
  {
    std::shared_lock lock(map_mu_);
    known = slots_known_;
  }
  if (!known || slots_stale_.load(std::memory_order_relaxed)) MaybeRefreshSlots();
  std::shared_lock lock(map_mu_);
  const std::int16_t index = slots_[slot];
  // Unknown (no map yet): ask the first seed, which redirects us if the slot is elsewhere.
  return nodes_[index >= 0 ? static_cast<std::size_t>(index) : 0].get();
}

RedisClient::Node* RedisClient::NodeAt(const Endpoint& endpoint) {
  {
    std::shared_lock lock(map_mu_);
    for (const auto& node : nodes_) {
      if (node->endpoint() == endpoint) return node.get();
    }
  }
  std::unique_lock lock(map_mu_);
  for (const auto& node : nodes_) {
    if (node->endpoint() == endpoint) return node.get();
  }
  nodes_.push_back(std::make_unique<Node>(endpoint, options_));
  return nodes_.back().get();
}

void RedisClient::MaybeRefreshSlots() {
  std::unique_lock lock(refresh_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    // Another thread is reloading. Without any map yet, wait for its result.
    {
      std::shared_lock map_lock(map_mu_);
      if (slots_known_) return;
    }
    lock.lock();
    std::shared_lock map_lock(map_mu_);
    if (slots_known_) return;
    // Still no map: go on and try ourselves (subject to the rate limit below).
  }
  const auto now = Clock::now();
  // At most one reload per down_for: when the whole cluster is down, calls fail fast.
  if (last_refresh_try_ != Clock::time_point{} && now - last_refresh_try_ < options_.down_for) {
    return;
  }
  last_refresh_try_ = now;
  (void)LoadSlots(now + options_.timeout);
}

core::Result<void> RedisClient::LoadSlots(Deadline deadline) {
  // Masters as last seen first, then the seeds and any other node met; healthy ones first.
  std::vector<Endpoint> order = SubscribeCandidates();
  std::vector<Node*> healthy;
  std::vector<Node*> failed;
  for (const Endpoint& endpoint : order) {
    Node* node = NodeAt(endpoint);
    (node->down() ? failed : healthy).push_back(node);
  }
  healthy.insert(healthy.end(), failed.begin(), failed.end());

  static constexpr std::string_view kClusterSlotsArgs[] = {"CLUSTER", "SLOTS"};
  const Args command[] = {Args(kClusterSlotsArgs)};
  core::Error last_error{core::ErrorCode::kUnavailable, "redis: no cluster node to ask"};
  for (Node* node : healthy) {
    if (Clock::now() >= deadline) break;
    auto replies = node->Run(command, deadline);
    if (!replies) {
      last_error = replies.error();
      continue;
    }
    const Reply& reply = replies->front();
    if (reply.type != Reply::Type::kArray) {
      last_error = core::Error{core::ErrorCode::kInternal,
                               "redis " + node->endpoint().ToString() + ": CLUSTER SLOTS: " +
                                   (reply.IsError() ? reply.str : "unexpected reply")};
      continue;
    }
    // [[first, last, [host, port, id, ...], replicas...], ...]
    struct Range {
      long long first;
      long long last;
      Endpoint master;
    };
    std::vector<Range> ranges;
    bool malformed = false;
    for (const Reply& range : reply.elements) {
      if (range.type != Reply::Type::kArray || range.elements.size() < 3 ||
          range.elements[0].type != Reply::Type::kInteger ||
          range.elements[1].type != Reply::Type::kInteger ||
          range.elements[2].type != Reply::Type::kArray || range.elements[2].elements.size() < 2 ||
          range.elements[2].elements[1].type != Reply::Type::kInteger) {
        malformed = true;
        break;
      }
      const Reply& master = range.elements[2];
      Range parsed{range.elements[0].integer, range.elements[1].integer, {}};
      parsed.master.host = master.elements[0].str;
      if (parsed.master.host.empty() || parsed.master.host == "?") {
        parsed.master.host = node->endpoint().host;
      }
      parsed.master.port = static_cast<std::uint16_t>(master.elements[1].integer);
      if (parsed.first < 0 || parsed.last >= kClusterSlots || parsed.first > parsed.last) {
        malformed = true;
        break;
      }
      ranges.push_back(std::move(parsed));
    }
    if (malformed || ranges.empty()) {
      last_error =
          core::Error{core::ErrorCode::kInternal, "redis " + node->endpoint().ToString() +
                                                      ": CLUSTER SLOTS: no usable slot ranges"};
      continue;
    }
    std::vector<std::int16_t> indices;
    for (const Range& range : ranges) {
      Node* master = NodeAt(range.master);
      std::shared_lock lock(map_mu_);
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].get() == master) indices.push_back(static_cast<std::int16_t>(i));
      }
    }
    {
      std::unique_lock lock(map_mu_);
      slots_.fill(-1);
      for (std::size_t r = 0; r < ranges.size(); ++r) {
        for (long long s = ranges[r].first; s <= ranges[r].last; ++s) {
          slots_[static_cast<std::size_t>(s)] = indices[r];
        }
      }
      slots_known_ = true;
    }
    slots_stale_.store(false, std::memory_order_relaxed);
    slot_map_loads_.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  return std::unexpected(last_error);
}

}  // namespace kurz::adapters::redis
