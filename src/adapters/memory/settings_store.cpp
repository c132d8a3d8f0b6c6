#include "adapters/memory/settings_store.hpp"

#include "adapters/memory/guard.hpp"

namespace kurz::adapters::memory {

Result<std::string> MemorySettingsStore::GetOrInsert(std::string_view name,
                                                     std::string_view value_if_absent) {
  return Guard([&]() -> Result<std::string> {
    std::lock_guard lock(mu_);
    auto it = values_.find(name);
    if (it == values_.end()) it = values_.emplace(name, value_if_absent).first;
    return it->second;
  });
}

}  // namespace kurz::adapters::memory
