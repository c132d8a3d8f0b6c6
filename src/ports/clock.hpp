#pragma once

#include "core/time.hpp"

namespace kurz::ports {

// Wall clock, so tests can move time (expiry, daily stats).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual core::Micros Now() const = 0;
};

}  // namespace kurz::ports
