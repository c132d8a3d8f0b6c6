#pragma once

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "ports/invalidation_bus.hpp"

namespace kurz::adapters::memory {

using core::Result;

// An InvalidationBus within one process (embedded mode has a single instance): Publish calls
// every handler on the publishing thread. It never loses messages, so it never signals lost.
class MemoryInvalidationBus final : public ports::InvalidationBus {
 public:
  MemoryInvalidationBus() = default;

  Result<void> Publish(std::string_view code) override;
  Result<void> Subscribe(Handler handler) override;

 private:
  std::mutex mu_;
  // Copied on write, so Publish calls handlers without holding mu_.
  std::shared_ptr<const std::vector<Handler>> handlers_ =
      std::make_shared<const std::vector<Handler>>();
};

}  // namespace kurz::adapters::memory
