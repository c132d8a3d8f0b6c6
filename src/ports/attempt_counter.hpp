#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "core/time.hpp"

namespace kurz::ports {

using core::Result;

// Where a key stands in its current window.
struct AttemptWindow {
  std::int64_t count = 0;      // additions in the window so far (the one just made included)
  core::Micros resets_in = 0;  // until the window closes and the count starts again from 0
};

// Counts attempts per key in fixed windows (wrong passwords per client and link; failed sign-ins),
// shared by every instance in cluster mode (Redis). A key's window opens with its first addition
// and lasts the `window` given then; later additions do not extend it. Unlike RateLimitStore (GCRA
// at whole requests per second, counting every request it decides on) it holds limits as slow as
// a few per minute, and an attempt can be taken back. Blocking and thread-safe; call it off the
// event loops.
class AttemptCounter {
 public:
  virtual ~AttemptCounter() = default;

  // Adds one attempt of key at instant now and returns the count with it. window (> 0) is the
  // length of the window this addition opens when key has none open. unavailable when the store
  // cannot answer within the adapter's timeout: the caller then falls back to a local count.
  // Stores with their own clock (Redis' key expiry) may use it instead of now.
  virtual Result<AttemptWindow> Add(std::string_view key, core::Micros window,
                                    core::Micros now) = 0;

  // Takes one attempt of key back (it was counted before it turned out not to be a failure).
  // OK, and nothing changes, when key has no open window or a count of 0; the window is not moved.
  virtual Result<void> TakeBack(std::string_view key, core::Micros now) = 0;
};

}  // namespace kurz::ports
