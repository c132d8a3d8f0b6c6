#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "ports/rate_limit_store.hpp"

namespace kurz::adapters::memory {

using core::Result;

// A RateLimitStore in process memory: key → theoretical arrival time, under one mutex. Keys whose
// bucket is full again (TAT in the past) are swept now and then.
class MemoryRateLimitStore final : public ports::RateLimitStore {
 public:
  MemoryRateLimitStore() = default;

  Result<core::GcraDecision> Check(std::string_view key, const core::GcraLimit& limit,
                                   core::Micros now) override;

 private:
  std::mutex mu_;
  std::map<std::string, std::int64_t, std::less<>> tat_;
  std::uint64_t checks_since_sweep_ = 0;
};

}  // namespace kurz::adapters::memory
