#include "service/click_queue.hpp"

#include <bit>

namespace kurz::service {

ClickQueue::ClickQueue(std::size_t capacity)
    : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1),
      slots_(std::make_unique<Slot[]>(mask_ + 1)) {
  for (std::size_t i = 0; i <= mask_; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
}

ClickQueue::~ClickQueue() = default;

std::size_t ClickQueue::PopBatch(std::span<core::ClickEvent> out) {
  std::size_t n = 0;
  std::uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  while (n < out.size()) {
    Slot& slot = slots_[pos & mask_];
    const std::uint64_t seq = slot.sequence.load(std::memory_order_acquire);
    if (seq != pos + 1) break;  // empty (or the producer is still filling it)
    out[n++] = slot.event;
    slot.sequence.store(pos + mask_ + 1, std::memory_order_release);
    ++pos;
  }
  dequeue_pos_.store(pos, std::memory_order_relaxed);
  return n;
}

std::size_t ClickQueue::depth() const {
  const std::uint64_t in = enqueue_pos_.load(std::memory_order_relaxed);
  const std::uint64_t out = dequeue_pos_.load(std::memory_order_relaxed);
  return in > out ? static_cast<std::size_t>(in - out) : 0;
}

}  // namespace kurz::service
