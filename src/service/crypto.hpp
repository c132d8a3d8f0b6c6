#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace kurz::service {

// Lowercase hex SHA-256 of the bytes.
std::string Sha256Hex(std::string_view data);
// Cryptographically random bytes (OpenSSL's CSPRNG); false if the generator failed.
bool RandomBytes(std::span<std::byte> out);
// `length` random characters of [0-9A-Za-z] (uniform: rejection sampling).
std::string RandomBase62(std::size_t length);
// Lowercase hex of the bytes.
std::string ToHex(std::string_view bytes);

}  // namespace kurz::service
