#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "core/click_event.hpp"

namespace kurz::service {

// A bounded multi-producer queue of click events in a preallocated ring (Vyukov's bounded
// queue): pushing never allocates, never blocks and never takes a lock; when the ring is full
// the event is dropped and counted. One consumer (the drain thread) pops.
class ClickQueue {
 public:
  explicit ClickQueue(std::size_t capacity);  // rounded up to a power of two
  ~ClickQueue();
  ClickQueue(const ClickQueue&) = delete;
  ClickQueue& operator=(const ClickQueue&) = delete;

  // Fills the slot through fill(ClickEvent&) and publishes it; the event's id_lo is set to its
  // position in the queue's history (unique within this queue). False when full (dropped).
  template <class F>
  bool TryPush(F&& fill);

  // Moves up to out.size() events into out; returns how many. Single consumer only.
  std::size_t PopBatch(std::span<core::ClickEvent> out);

  std::uint64_t pushed() const { return pushed_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return mask_ + 1; }
  // Events waiting (approximate while producers run).
  std::size_t depth() const;

 private:
  struct Slot {
    std::atomic<std::uint64_t> sequence;
    core::ClickEvent event;
  };
  std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::uint64_t> enqueue_pos_{0};
  alignas(64) std::atomic<std::uint64_t> dequeue_pos_{0};  // written by the consumer only
  alignas(64) std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

template <class F>
bool ClickQueue::TryPush(F&& fill) {
  std::uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Slot& slot = slots_[pos & mask_];
    const std::uint64_t seq = slot.sequence.load(std::memory_order_acquire);
    const auto diff = static_cast<std::int64_t>(seq) - static_cast<std::int64_t>(pos);
    if (diff == 0) {
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        fill(slot.event);
        slot.event.id_lo = pos;
        slot.sequence.store(pos + 1, std::memory_order_release);
        pushed_.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    } else if (diff < 0) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
}

}  // namespace kurz::service
