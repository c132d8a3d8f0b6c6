#include "adapters/memory/invalidation_bus.hpp"

#include <utility>

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {

Result<void> MemoryInvalidationBus::Publish(std::string_view code) {
  std::shared_ptr<const std::vector<Handler>> handlers;
  {
    std::lock_guard lock(mu_);
    handlers = handlers_;
  }
  const ports::Invalidation message{.code = code, .lost = false};
  for (const Handler& handler : *handlers) handler(message);
  return {};
}

Result<void> MemoryInvalidationBus::Subscribe(Handler handler) {
  return Guard([&]() -> Result<void> {
    std::lock_guard lock(mu_);
    auto next = std::make_shared<std::vector<Handler>>(*handlers_);
    next->push_back(std::move(handler));
    handlers_ = std::move(next);
    return {};
  });
}

}  // namespace kurz::adapters::memory
