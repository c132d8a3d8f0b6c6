#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// Small named values that must survive restarts (the code scrambler key, hashing secrets).
class SettingsStore {
 public:
  virtual ~SettingsStore() = default;

  // Returns the stored value of `name`; when there is none, durably stores `value_if_absent`
  // and returns it. Concurrent callers all get the same, first stored, value.
  virtual Result<std::string> GetOrInsert(std::string_view name,
                                          std::string_view value_if_absent) = 0;
};

}  // namespace kurz::ports
