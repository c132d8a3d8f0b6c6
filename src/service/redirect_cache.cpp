#include "service/redirect_cache.hpp"

#include <functional>

namespace kurz::service {

RedirectCache::RedirectCache(std::size_t max_entries, core::Micros negative_ttl)
    : negative_ttl_(negative_ttl), shards_(std::make_unique<std::array<Shard, kShards>>()) {
  // Exactly max_entries in all: the remainder goes to the first shards; 0 turns the cache off.
  for (std::size_t i = 0; i < kShards; ++i) {
    Shard& shard = (*shards_)[i];
    shard.capacity = max_entries / kShards + (i < max_entries % kShards ? 1 : 0);
    shard.map.reserve(std::min<std::size_t>(shard.capacity, 4096));
  }
}

RedirectCache::~RedirectCache() = default;

RedirectCache::Shard& RedirectCache::ShardFor(std::string_view code) const {
  return (*shards_)[std::hash<std::string_view>{}(code) % kShards];
}

void RedirectCache::Unlink(Shard& shard, Node* node) {
  if (node->prev)
    node->prev->next = node->next;
  else
    shard.head = node->next;
  if (node->next)
    node->next->prev = node->prev;
  else
    shard.tail = node->prev;
  node->prev = node->next = nullptr;
}

void RedirectCache::PushFront(Shard& shard, Node* node) {
  node->next = shard.head;
  node->prev = nullptr;
  if (shard.head) shard.head->prev = node;
  shard.head = node;
  if (!shard.tail) shard.tail = node;
}

void RedirectCache::Erase(Shard& shard, Node* node) {
  Unlink(shard, node);
  auto it = shard.map.find(node->code.view());
  shard.map.erase(it);  // destroys node
}

std::uint64_t RedirectCache::Generation(std::string_view code) const {
  Shard& shard = ShardFor(code);
  std::lock_guard lock(shard.mutex);
  return shard.generation;
}

void RedirectCache::Fill(std::string_view code, CacheValue value, std::uint64_t generation,
                         core::Micros now) {
  if (code.size() > core::kMaxCodeLength) return;
  Shard& shard = ShardFor(code);
  std::lock_guard lock(shard.mutex);
  if (shard.capacity == 0) return;
  if (shard.generation != generation) return;  // something changed since the caller's read
  if (auto it = shard.map.find(code); it != shard.map.end()) Erase(shard, it->second.get());
  auto node = std::make_unique<Node>();
  node->code.Assign(code);
  node->value = std::move(value);
  if (node->value.kind == CacheKind::kNotFound) node->negative_until = now + negative_ttl_;
  Node* raw = node.get();
  shard.map.emplace(raw->code.view(), std::move(node));
  PushFront(shard, raw);
  // CLOCK: entries hit since the hand last passed get a second chance at the front.
  while (shard.map.size() > shard.capacity && shard.tail) {
    Node* victim = shard.tail;
    if (victim->referenced && victim != raw) {
      victim->referenced = false;
      Unlink(shard, victim);
      PushFront(shard, victim);
      continue;
    }
    Erase(shard, victim);
  }
}

void RedirectCache::Invalidate(std::string_view code) {
  Shard& shard = ShardFor(code);
  std::lock_guard lock(shard.mutex);
  ++shard.generation;
  if (auto it = shard.map.find(code); it != shard.map.end()) Erase(shard, it->second.get());
}

void RedirectCache::Clear() {
  for (Shard& shard : *shards_) {
    std::lock_guard lock(shard.mutex);
    ++shard.generation;
    shard.map.clear();
    shard.head = shard.tail = nullptr;
  }
}

std::size_t RedirectCache::size() const {
  std::size_t total = 0;
  for (const Shard& shard : *shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.map.size();
  }
  return total;
}

}  // namespace kurz::service
