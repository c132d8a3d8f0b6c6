#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// Hashes link passwords (argon2id). Both calls are slow on purpose (tens of milliseconds):
// call them on the worker pool, never on an event loop. Thread-safe.
class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  // An encoded hash (PHC string with its own random salt) of password.
  virtual Result<std::string> Hash(std::string_view password) = 0;
  // Whether password is the one encoded; invalid_argument for an encoded string it cannot read.
  virtual Result<bool> Verify(std::string_view encoded, std::string_view password) = 0;
};

}  // namespace kurz::ports
