#include "adapters/memory/rate_limit_store.hpp"

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {

Result<core::GcraDecision> MemoryRateLimitStore::Check(std::string_view key,
                                                       const core::GcraLimit& limit,
                                                       core::Micros now) {
  return Guard([&]() -> Result<core::GcraDecision> {
    std::lock_guard lock(mu_);
    if (++checks_since_sweep_ >= 4096) {
      checks_since_sweep_ = 0;
      std::erase_if(tat_, [&](const auto& item) { return item.second <= now; });
    }
    auto it = tat_.find(key);
    const core::GcraDecision decision =
        core::GcraCheck(limit, it == tat_.end() ? 0 : it->second, now);
    if (decision.allowed) {
      if (it == tat_.end()) {
        tat_.emplace(std::string(key), decision.new_tat);
      } else {
        it->second = decision.new_tat;
      }
    }
    return decision;
  });
}

}  // namespace kurz::adapters::memory
