#include "service/redirect_cache.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace kurz::service {

namespace {
constexpr std::size_t kFirstSlots = 16;
}

RedirectCache::RedirectCache(std::size_t max_entries, core::Micros negative_ttl)
    : negative_ttl_(negative_ttl), shards_(std::make_unique<std::array<Shard, kShards>>()) {
  // Exactly max_entries in all: the remainder goes to the first shards; 0 turns the cache off.
  for (std::size_t i = 0; i < kShards; ++i) {
    (*shards_)[i].capacity = max_entries / kShards + (i < max_entries % kShards ? 1 : 0);
  }
}

RedirectCache::~RedirectCache() {
  for (Shard& shard : *shards_) FreeAll(shard);
}

std::uint64_t RedirectCache::HashOf(std::string_view code) {
  // FNV-1a over at most 32 bytes, then a 64-bit finaliser so that low and high bits both mix
  // (the low bits pick the shard, the high 32 are the tag, the middle the slot).
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : code) h = (h ^ c) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

std::size_t RedirectCache::Probe(const Shard& shard, std::string_view code, std::uint32_t tag) {
  const std::size_t mask = shard.slots.size() - 1;
  std::size_t i = (static_cast<std::size_t>(tag) * 0x9E3779B1u >> 6) & mask;
  for (;; i = (i + 1) & mask) {
    const Node* node = shard.slots[i];
    if (node == nullptr) return i;
    if (node->hash == tag && node->code() == code) return i;
  }
}

void RedirectCache::Unlink(Shard& shard, Node* node) {
  if (node->prev) {
    node->prev->next = node->next;
  } else {
    shard.head = node->next;
  }
  if (node->next) {
    node->next->prev = node->prev;
  } else {
    shard.tail = node->prev;
  }
  node->prev = node->next = nullptr;
}

void RedirectCache::PushFront(Shard& shard, Node* node) {
  node->next = shard.head;
  node->prev = nullptr;
  if (shard.head) shard.head->prev = node;
  shard.head = node;
  if (!shard.tail) shard.tail = node;
}

void RedirectCache::Erase(Shard& shard, std::size_t slot) {
  Node* node = shard.slots[slot];
  Unlink(shard, node);
  FreeNode(node);
  --shard.size;
  // Backward-shift deletion keeps linear probing correct without tombstones.
  const std::size_t mask = shard.slots.size() - 1;
  std::size_t hole = slot;
  for (std::size_t i = (slot + 1) & mask; shard.slots[i] != nullptr; i = (i + 1) & mask) {
    const std::size_t home =
        (static_cast<std::size_t>(shard.slots[i]->hash) * 0x9E3779B1u >> 6) & mask;
    // Move the entry into the hole when the hole lies on its probe path (home .. i, cyclic).
    const bool hole_on_path = ((i - home) & mask) >= ((i - hole) & mask);
    if (hole_on_path) {
      shard.slots[hole] = shard.slots[i];
      hole = i;
    }
  }
  shard.slots[hole] = nullptr;
}

void RedirectCache::Grow(Shard& shard) {
  std::vector<Node*> old = std::move(shard.slots);
  shard.slots.assign(old.empty() ? kFirstSlots : old.size() * 2, nullptr);
  const std::size_t mask = shard.slots.size() - 1;
  for (Node* node : old) {
    if (node == nullptr) continue;
    std::size_t i = (static_cast<std::size_t>(node->hash) * 0x9E3779B1u >> 6) & mask;
    while (shard.slots[i] != nullptr) i = (i + 1) & mask;
    shard.slots[i] = node;
  }
}

void RedirectCache::FreeAll(Shard& shard) {
  for (Node*& node : shard.slots) {
    FreeNode(node);
    node = nullptr;
  }
  shard.size = 0;
  shard.head = shard.tail = nullptr;
}

void RedirectCache::FreeNode(Node* node) {
  if (node == nullptr) return;
  delete node->options;
  std::free(node);
}

std::uint64_t RedirectCache::Generation(std::string_view code) const {
  Shard& shard = ShardFor(HashOf(code));
  std::lock_guard lock(shard.mutex);
  return shard.generation;
}

void RedirectCache::Fill(std::string_view code, const core::ResolvedLink& value,
                         std::uint64_t generation, core::Micros now) {
  if (code.empty() || code.size() > core::kMaxCodeLength) return;
  const std::uint64_t hash = HashOf(code);
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  Shard& shard = ShardFor(hash);

  // Build the entry outside the lock.
  const bool active = value.state == core::LinkState::kActive;
  const std::size_t location_size = active ? value.location.size() : 0;
  auto* node = static_cast<Node*>(std::malloc(sizeof(Node) + code.size() + location_size));
  if (node == nullptr) return;  // no memory: simply do not cache
  node->prev = node->next = nullptr;
  node->until = value.state == core::LinkState::kNotFound ? now + negative_ttl_
                : active                                  ? value.expires_at
                                                          : 0;
  node->owner_id = value.owner_id;
  // The node's own copy: it lives exactly as long as the node, with no reference count to touch
  // on a hit.
  node->options =
      value.options != nullptr ? new (std::nothrow) core::LinkOptions(*value.options) : nullptr;
  if (value.options != nullptr && node->options == nullptr) {
    std::free(node);
    return;
  }
  node->hash = tag;
  node->location_size = static_cast<std::uint32_t>(location_size);
  node->status = value.status;
  node->state = value.state;
  node->code_size = static_cast<std::uint8_t>(code.size());
  node->referenced = false;
  char* data = reinterpret_cast<char*>(node + 1);
  std::ranges::copy(code, data);  // not NUL-terminated: the sizes are stored beside them
  if (location_size) std::ranges::copy(value.location, data + code.size());

  std::lock_guard lock(shard.mutex);
  if (shard.capacity == 0 || shard.generation != generation) {
    // Turned off, or something changed since the caller's read.
    FreeNode(node);
    return;
  }
  if (!shard.slots.empty()) {
    const std::size_t existing = Probe(shard, code, tag);
    if (shard.slots[existing] != nullptr) Erase(shard, existing);
  }
  // CLOCK: entries hit since the hand last passed get a second chance at the front.
  while (shard.size >= shard.capacity && shard.tail) {
    Node* victim = shard.tail;
    if (victim->referenced) {
      victim->referenced = false;
      Unlink(shard, victim);
      PushFront(shard, victim);
      continue;
    }
    Erase(shard, Probe(shard, victim->code(), victim->hash));
  }
  if ((shard.size + 1) * 4 > shard.slots.size() * 3) Grow(shard);
  shard.slots[Probe(shard, code, tag)] = node;
  ++shard.size;
  PushFront(shard, node);
}

void RedirectCache::Invalidate(std::string_view code) {
  const std::uint64_t hash = HashOf(code);
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mutex);
  ++shard.generation;
  if (shard.slots.empty()) return;
  const std::size_t slot = Probe(shard, code, static_cast<std::uint32_t>(hash >> 32));
  if (shard.slots[slot] != nullptr) Erase(shard, slot);
}

void RedirectCache::Clear() {
  for (Shard& shard : *shards_) {
    std::lock_guard lock(shard.mutex);
    ++shard.generation;
    FreeAll(shard);
  }
}

std::size_t RedirectCache::size() const {
  std::size_t total = 0;
  for (const Shard& shard : *shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.size;
  }
  return total;
}

}  // namespace kurz::service
