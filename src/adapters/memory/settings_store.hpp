#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "ports/settings_store.hpp"

namespace kurz::adapters::memory {

using core::Result;

// Settings in process memory (they do not survive the process). Thread-safe (one mutex).
class MemorySettingsStore final : public ports::SettingsStore {
 public:
  MemorySettingsStore() = default;

  Result<std::string> GetOrInsert(std::string_view name, std::string_view value_if_absent) override;

 private:
  std::mutex mu_;
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace kurz::adapters::memory
