#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ports/password_hasher.hpp"

namespace kurz::adapters::argon2 {

using core::Result;

// Argon2id cost parameters. The defaults are OWASP's first recommendation (19 MiB, 2 passes, one
// lane; docs/decisions/0009-password-hashing.md has the measurements on this project's box).
struct Argon2Params {
  std::uint32_t memory_kib = 19 * 1024;
  std::uint32_t passes = 2;
  std::uint32_t lanes = 1;
};

// PasswordHasher over the reference implementation (Debian's libargon2): argon2id, 16-byte salts
// from OpenSSL's CSPRNG (the generator the rest of kurz uses), 32-byte tags, PHC strings.
// Verify reads the parameters from the encoded string, so hashes made with older parameters keep
// working after the defaults change; it refuses parameters beyond kMax* rather than let a stored
// string make it allocate gigabytes. Stateless, so thread-safe.
class Argon2Hasher final : public ports::PasswordHasher {
 public:
  static constexpr std::uint32_t kMaxMemoryKib = 1024 * 1024;  // 1 GiB
  static constexpr std::uint32_t kMaxPasses = 64;
  static constexpr std::uint32_t kMaxLanes = 64;

  explicit Argon2Hasher(Argon2Params params = {});

  Result<std::string> Hash(std::string_view password) override;
  Result<bool> Verify(std::string_view encoded, std::string_view password) override;

 private:
  Argon2Params params_;
};

}  // namespace kurz::adapters::argon2
