#pragma once

#include <array>
#include <cstdint>

namespace kurz::core {

// A keyed bijection over [0, kCodeSpace): a Feistel network on 42 bits with cycle-walking, so
// consecutive counter values map to unrelated codes. Same key, same mapping, forever: the key is
// created at first start and stored with the data.
class CodeScrambler {
 public:
  using Key = std::array<std::uint64_t, 4>;
  explicit CodeScrambler(Key key) : key_(key) {}

  // Requires value < kCodeSpace; the result is < kCodeSpace.
  std::uint64_t Scramble(std::uint64_t value) const;
  // The inverse of Scramble.
  std::uint64_t Unscramble(std::uint64_t value) const;

 private:
  Key key_;
};

}  // namespace kurz::core
