#include "adapters/memory/shared_cache.hpp"

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {

Result<std::optional<ports::CachedRedirect>> MemorySharedCache::Get(std::string_view code) {
  return Guard([&]() -> Result<std::optional<ports::CachedRedirect>> {
    std::lock_guard lock(mu_);
    auto it = entries_.find(code);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.until <= Clock::now()) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  });
}

Result<void> MemorySharedCache::Put(std::string_view code, const ports::CachedRedirect& value,
                                    core::Micros ttl) {
  if (ttl <= 0) return core::Fail(core::ErrorCode::kInvalidArgument, "cache TTL must be > 0");
  return Guard([&]() -> Result<void> {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    Entry entry{value, now + std::chrono::microseconds(ttl)};
    if (auto it = entries_.find(code); it != entries_.end()) {
      it->second = std::move(entry);
    } else {
      entries_.emplace(std::string(code), std::move(entry));
    }
    if (++puts_since_sweep_ >= 1024) SweepLocked(now);
    return {};
  });
}

Result<bool> MemorySharedCache::PutIfAbsent(std::string_view code,
                                            const ports::CachedRedirect& value, core::Micros ttl) {
  if (ttl <= 0) return core::Fail(core::ErrorCode::kInvalidArgument, "cache TTL must be > 0");
  return Guard([&]() -> Result<bool> {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    Entry entry{value, now + std::chrono::microseconds(ttl)};
    if (auto it = entries_.find(code); it != entries_.end()) {
      if (it->second.until > now) return false;
      it->second = std::move(entry);  // expired: as good as absent
    } else {
      entries_.emplace(std::string(code), std::move(entry));
    }
    if (++puts_since_sweep_ >= 1024) SweepLocked(now);
    return true;
  });
}

Result<void> MemorySharedCache::Remove(std::string_view code) {
  return Guard([&]() -> Result<void> {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(code); it != entries_.end()) entries_.erase(it);
    return {};
  });
}

void MemorySharedCache::SweepLocked(Clock::time_point now) {
  puts_since_sweep_ = 0;
  std::erase_if(entries_, [&](const auto& item) { return item.second.until <= now; });
}

}  // namespace kurz::adapters::memory
