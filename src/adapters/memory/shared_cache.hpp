#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ports/shared_cache.hpp"

namespace kurz::adapters::memory {

using core::Result;

// A SharedCache in process memory, for embedded mode and tests: shared only by the users of this
// object. TTLs run on the steady clock. Thread-safe (one mutex).
class MemorySharedCache final : public ports::SharedCache {
 public:
  MemorySharedCache() = default;

  Result<std::optional<ports::CachedRedirect>> Get(std::string_view code) override;
  Result<void> Put(std::string_view code, const ports::CachedRedirect& value,
                   core::Micros ttl) override;
  Result<bool> PutIfAbsent(std::string_view code, const ports::CachedRedirect& value,
                           core::Micros ttl) override;
  Result<void> Remove(std::string_view code) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    ports::CachedRedirect value;
    Clock::time_point until;
  };
  // Drops expired entries now and then, so that codes never read again do not pile up.
  void SweepLocked(Clock::time_point now);

  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::uint64_t puts_since_sweep_ = 0;
};

}  // namespace kurz::adapters::memory
