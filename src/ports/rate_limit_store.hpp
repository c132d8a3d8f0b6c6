#pragma once

#include <string_view>

#include "core/error.hpp"
#include "core/gcra.hpp"
#include "core/time.hpp"

namespace kurz::ports {

using core::Result;

// Rate limits shared by every instance (Redis in cluster mode): the GCRA state of each key,
// checked and updated atomically. Blocking and thread-safe; call it off the event loops.
class RateLimitStore {
 public:
  virtual ~RateLimitStore() = default;

  // Checks and, when allowed, counts one request of key at instant now: the decision of
  // core::GcraCheck(limit, stored TAT of key, now), with the new TAT stored when allowed.
  // now is the caller's wall clock (instances must agree on it). unavailable when the store
  // cannot answer within the adapter's timeout: the caller then falls back to a local limiter.
  virtual Result<core::GcraDecision> Check(std::string_view key, const core::GcraLimit& limit,
                                           core::Micros now) = 0;
};

}  // namespace kurz::ports
