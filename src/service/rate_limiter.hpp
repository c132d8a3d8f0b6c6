#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/gcra.hpp"

namespace kurz::service {

// Per-key GCRA limits kept in process: sharded maps of key → theoretical arrival time, so no
// lock is shared by all threads. Keys are 128-bit (an API key id, or a client IP).
class RateLimiter {
 public:
  struct Key {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };

  // rate_per_second == 0 disables the limit (every check allowed).
  explicit RateLimiter(std::int64_t rate_per_second);

  bool enabled() const { return limit_.rate_per_second > 0; }
  std::int64_t limit() const { return limit_.burst; }
  const core::GcraLimit& gcra() const { return limit_; }

  // Checks and, when allowed, counts one request of key at monotonic instant now_us.
  core::GcraDecision Check(Key key, std::int64_t now_us);

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(k.hi * 0x9E3779B97F4A7C15ULL ^ k.lo);
    }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<Key, std::int64_t, KeyHash> tat;
    std::int64_t last_sweep_us = 0;
  };
  static constexpr std::size_t kShards = 32;

  core::GcraLimit limit_;
  std::unique_ptr<std::array<Shard, kShards>> shards_;
};

}  // namespace kurz::service
