#pragma once

#include <chrono>

#include "core/time.hpp"
#include "ports/clock.hpp"

namespace kurz::adapters {

// The wall clock, for adapters (and processes) given no other.
class SystemClock final : public ports::Clock {
 public:
  core::Micros Now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// The clock an adapter uses when its options name none.
inline const ports::Clock& DefaultClock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace kurz::adapters
