#pragma once

#include <functional>
#include <string_view>

#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// One message of the InvalidationBus.
struct Invalidation {
  std::string_view code;  // the code to forget; empty when lost is set. Valid during the call.
  // Messages may have been missed (the bus lost its connection and got it back): forget every
  // cached code, not just one.
  bool lost = false;
};

// Tells every instance (this one included) to drop codes from its in-process cache after a
// delete or a change made by any of them (Redis pub/sub in cluster mode). Thread-safe.
class InvalidationBus {
 public:
  using Handler = std::function<void(const Invalidation&)>;

  virtual ~InvalidationBus() = default;

  // Sends code to every subscriber of every instance. Best effort, answers within the adapter's
  // timeout: unavailable when the message could not be sent (subscribers that were cut off get
  // a lost signal when they are back).
  virtual Result<void> Publish(std::string_view code) = 0;

  // Calls handler for every message published from now on, until the bus is destroyed: on a
  // background thread of the bus, or inside Publish for the in-process bus. Handlers must be
  // quick and must not call back into the bus. OK once messages are being received; unavailable
  // when that could not be set up within the timeout: the handler stays registered, the bus
  // keeps retrying in the background, and the handler gets a lost signal once it succeeds.
  virtual Result<void> Subscribe(Handler handler) = 0;
};

}  // namespace kurz::ports
