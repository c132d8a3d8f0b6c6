#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/short_code.hpp"
#include "core/time.hpp"

namespace kurz::service {

// What the redirect path needs to answer a code without the database.
enum class CacheKind : std::uint8_t { kRedirect, kNotFound, kGone };

struct CacheValue {
  CacheKind kind = CacheKind::kNotFound;
  std::uint16_t status = 301;   // for kRedirect
  std::string location;         // for kRedirect: the ASCII Location
  core::Micros expires_at = 0;  // kRedirect: 0 = never; after it the answer is 410
};

// The in-process L1: sharded (no lock shared by all threads), bounded by entries with CLOCK
// eviction (second chance: a hit only sets a flag, so reads do not reorder lists), looked up by
// string_view without allocating. Negative entries (unknown codes) live for a short TTL.
//
// Races with writers are closed by generations: a filler reads Generation(code) before asking the
// database and passes it to Fill; any invalidation of that shard in between makes Fill a no-op,
// so a stale answer never overwrites a newer truth (a create after a 404, a delete after a read).
class RedirectCache {
 public:
  RedirectCache(std::size_t max_entries, core::Micros negative_ttl);
  ~RedirectCache();
  RedirectCache(const RedirectCache&) = delete;
  RedirectCache& operator=(const RedirectCache&) = delete;

  struct Hit {
    CacheKind kind;
    std::uint16_t status;
    std::string_view location;  // valid only inside the callback
  };

  // On a hit calls on_hit(const Hit&) under the shard's lock (copy what you need; do not call
  // back into the cache) and returns true. Expired links are reported as kGone. No allocation.
  template <class F>
  bool Lookup(std::string_view code, core::Micros now, F&& on_hit);

  std::uint64_t Generation(std::string_view code) const;
  void Fill(std::string_view code, CacheValue value, std::uint64_t generation, core::Micros now);
  // Forgets the code (after a create, a delete or a change).
  void Invalidate(std::string_view code);
  // Forgets everything (after a user is suspended or reactivated).
  void Clear();

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  std::size_t size() const;

 private:
  struct Node {
    core::CodeBuffer code;
    CacheValue value;
    core::Micros negative_until = 0;
    bool referenced = false;  // hit since the eviction hand last passed
    Node* prev = nullptr;
    Node* next = nullptr;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string_view, std::unique_ptr<Node>> map;
    Node* head = nullptr;  // newest
    Node* tail = nullptr;  // where the eviction hand looks first
    std::uint64_t generation = 0;
    std::size_t capacity = 0;  // entries this shard may hold
  };
  static constexpr std::size_t kShards = 64;

  Shard& ShardFor(std::string_view code) const;
  static void Unlink(Shard& shard, Node* node);
  static void PushFront(Shard& shard, Node* node);
  void Erase(Shard& shard, Node* node);

  core::Micros negative_ttl_;
  std::unique_ptr<std::array<Shard, kShards>> shards_;
  mutable std::atomic<std::uint64_t> hits_{0};
  mutable std::atomic<std::uint64_t> misses_{0};
};

template <class F>
bool RedirectCache::Lookup(std::string_view code, core::Micros now, F&& on_hit) {
  Shard& shard = ShardFor(code);
  std::unique_lock lock(shard.mutex);
  auto it = shard.map.find(code);
  if (it == shard.map.end()) {
    lock.unlock();
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Node* node = it->second.get();
  if (node->value.kind == CacheKind::kNotFound && node->negative_until <= now) {
    Erase(shard, node);
    lock.unlock();
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!node->referenced) node->referenced = true;
  Hit hit{node->value.kind, node->value.status, node->value.location};
  if (hit.kind == CacheKind::kRedirect && node->value.expires_at != 0 &&
      node->value.expires_at <= now) {
    hit.kind = CacheKind::kGone;
  }
  on_hit(hit);
  lock.unlock();
  hits_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace kurz::service
