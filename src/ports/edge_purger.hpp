#pragma once

#include <string_view>

#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// The CDN edge in front of kurz (Varnish, a CDN's purge API): told when a code's answer changed
// (PATCH, delete), so that it stops serving the copy it keeps (a 301 is kept for an hour).
// Blocking, thread-safe, answers within the adapter's timeout; call it off the event loops.
// Failures are counted by the caller and never fail the change: the edge's TTL bounds the harm.
class EdgePurger {
 public:
  virtual ~EdgePurger() = default;
  // Makes the edge forget what it keeps for /code.
  virtual Result<void> Purge(std::string_view code) = 0;
};

// No edge (the default): nothing to tell.
class NoEdge final : public EdgePurger {
 public:
  Result<void> Purge(std::string_view /*code*/) override { return {}; }
};

}  // namespace kurz::ports
