#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kurz::core {

// Alphabet 0-9 A-Z a-z. 62^7 = 3,521,614,606,208 values fit in 7 characters.
constexpr std::uint64_t kCodeSpace = 3'521'614'606'208ULL;
constexpr std::size_t kGeneratedCodeLength = 7;

// Encodes value in base62, left-padded with '0' to at least min_length characters.
std::string EncodeBase62(std::uint64_t value, std::size_t min_length = kGeneratedCodeLength);
// Writes exactly kGeneratedCodeLength characters for value < kCodeSpace into out (no allocation).
void EncodeBase62Fixed7(std::uint64_t value, char out[7]);
// nullopt on a character outside the alphabet, empty input, or overflow of 64 bits.
std::optional<std::uint64_t> DecodeBase62(std::string_view s);

}  // namespace kurz::core
