#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

// Turns passwords into stored hashes and checks them (link passwords; user passwords later). Both
// methods are slow on purpose (tens of milliseconds of CPU and megabytes of memory per call, the
// whole point against offline guessing): run them on the worker pool, never on an event loop.
// Thread-safe.
class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;

  // A self-describing encoded hash of password (PHC string format, e.g. "$argon2id$v=19$m=...,
  // t=...,p=...$<salt>$<hash>") with a fresh random salt, so two hashes of one password differ.
  // Any bytes are accepted, the empty password included (length rules belong to the caller).
  // internal when the random generator or the hash function fails.
  virtual Result<std::string> Hash(std::string_view password) = 0;

  // true when password is the one encoded was made from, false when it is not. invalid_argument
  // when encoded is not a hash this hasher can read (garbage, another algorithm, parameters out of
  // its bounds); internal when the hash function itself fails.
  virtual Result<bool> Verify(std::string_view encoded, std::string_view password) = 0;
};

}  // namespace kurz::ports
