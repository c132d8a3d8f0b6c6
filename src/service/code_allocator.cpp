#include "service/code_allocator.hpp"

#include "core/base62.hpp"

namespace kurz::service {

CodeAllocator::CodeAllocator(ports::LinkStore& store, core::CodeScrambler scrambler,
                             std::uint64_t block_size)
    : store_(store), scrambler_(scrambler), block_size_(block_size == 0 ? 1 : block_size) {}

core::Result<std::string> CodeAllocator::Next() {
  std::lock_guard lock(mutex_);
  if (next_ == end_) {
    auto first = store_.LeaseCodeBlock(block_size_);
    if (!first) return std::unexpected(first.error());
    next_ = *first;
    end_ = *first + block_size_;
  }
  const std::uint64_t value = next_++;
  if (value >= core::kCodeSpace) {
    return core::Fail(core::ErrorCode::kInternal, "the 7-character code space is exhausted");
  }
  return core::EncodeBase62(scrambler_.Scramble(value));
}

}  // namespace kurz::service
