#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/redirect.hpp"
#include "core/short_code.hpp"
#include "core/time.hpp"

namespace kurz::service {

// The in-process L1: sharded (no lock shared by all threads), bounded by entries with CLOCK
// eviction (second chance: a hit only sets a flag, so reads do not reorder lists), looked up by
// string_view without allocating. Negative entries (unknown codes) live for a short TTL. It keeps
// values, not answers: what a hit answers (expiry included) is core::AnswerRedirect's to decide.
//
// Memory: each entry is one allocation holding its code and Location inline (plus its own copy of
// the options block, for the links that have one), indexed by an open-addressing table of
// pointers (linear probing, at most 3/4 full): about 90 bytes per link beyond the URL's own
// bytes (bench/micro measures it).
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

  // On a hit calls on_hit(const core::ResolvedLinkView&) under the shard's lock (its views are
  // valid only inside the callback: copy what you need; do not call back into the cache) and
  // returns true. The value is handed as filled: a link past its expiry is still kActive with
  // its expires_at (core::AnswerRedirect answers 410). A negative entry past its TTL (now) is a
  // miss. No allocation.
  template <class F>
  bool Lookup(std::string_view code, core::Micros now, F&& on_hit);

  std::uint64_t Generation(std::string_view code) const;
  // Remembers value for code unless the shard changed since generation was read; a kNotFound
  // value lives for the negative TTL from now.
  void Fill(std::string_view code, const core::ResolvedLink& value, std::uint64_t generation,
            core::Micros now);
  // Forgets the code (after a create, a delete or a change).
  void Invalidate(std::string_view code);
  // Forgets everything (after a user is suspended or reactivated).
  void Clear();

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  std::size_t size() const;

 private:
  // One allocation per entry: this header, then the code's bytes, then the Location's bytes.
  struct Node {
    Node* prev;
    Node* next;
    core::Micros until;  // kActive: expiry (0 = never); kNotFound: end of the negative TTL
    std::int64_t owner_id;
    const core::LinkOptions* options;  // owned by the node; null for plain links
    std::uint32_t hash;
    std::uint32_t location_size;
    core::RedirectType status;
    core::LinkState state;
    std::uint8_t code_size;
    bool referenced;  // hit since the eviction hand last passed

    const char* code_data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view code() const { return {code_data(), code_size}; }
    std::string_view location() const { return {code_data() + code_size, location_size}; }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::vector<Node*> slots;  // open addressing; nullptr = empty; size a power of two
    std::size_t size = 0;
    Node* head = nullptr;  // newest
    Node* tail = nullptr;  // where the eviction hand looks first
    std::uint64_t generation = 0;
    std::size_t capacity = 0;  // entries this shard may hold
  };
  static constexpr std::size_t kShards = 64;

  static std::uint64_t HashOf(std::string_view code);
  Shard& ShardFor(std::uint64_t hash) const { return (*shards_)[hash % kShards]; }
  // Index of the slot holding code, or of the empty slot where the probe ended.
  static std::size_t Probe(const Shard& shard, std::string_view code, std::uint32_t tag);
  static void Unlink(Shard& shard, Node* node);
  static void PushFront(Shard& shard, Node* node);
  static void Erase(Shard& shard, std::size_t slot);
  static void Grow(Shard& shard);
  static void FreeAll(Shard& shard);
  static void FreeNode(Node* node);

  core::Micros negative_ttl_;
  std::unique_ptr<std::array<Shard, kShards>> shards_;
  mutable std::atomic<std::uint64_t> hits_{0};
  mutable std::atomic<std::uint64_t> misses_{0};
};

template <class F>
bool RedirectCache::Lookup(std::string_view code, core::Micros now, F&& on_hit) {
  const std::uint64_t hash = HashOf(code);
  Shard& shard = ShardFor(hash);
  std::unique_lock lock(shard.mutex);
  Node* node = nullptr;
  std::size_t slot = 0;
  if (!shard.slots.empty()) {
    slot = Probe(shard, code, static_cast<std::uint32_t>(hash >> 32));
    node = shard.slots[slot];
  }
  if (node == nullptr) {
    lock.unlock();
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (node->state == core::LinkState::kNotFound && node->until <= now) {
    Erase(shard, slot);
    lock.unlock();
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!node->referenced) node->referenced = true;
  const core::ResolvedLinkView value{
      node->state,      node->status,
      node->location(), node->state == core::LinkState::kActive ? node->until : 0,
      node->owner_id,   node->options};
  on_hit(value);
  lock.unlock();
  hits_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace kurz::service
