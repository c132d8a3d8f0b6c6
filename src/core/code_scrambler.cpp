#include "core/code_scrambler.hpp"

#include "core/base62.hpp"

namespace kurz::core {
namespace {

constexpr int kHalfBits = 21;
constexpr std::uint64_t kHalfMask = (std::uint64_t{1} << kHalfBits) - 1;
constexpr int kRounds = 8;
static_assert(kCodeSpace <= std::uint64_t{1} << (2 * kHalfBits));

// Murmur3's 64-bit finaliser: every input bit affects every output bit.
constexpr std::uint64_t Mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// A distinct constant per round from the 256-bit key; the golden-ratio step keeps rounds apart
// even when key words repeat (an all-zero key still scrambles).
constexpr std::uint64_t RoundKey(const CodeScrambler::Key& key, int round) {
  const auto r = static_cast<std::uint64_t>(round);
  return Mix64(key[r % key.size()] + (r + 1) * 0x9e3779b97f4a7c15ULL) ^ key[(r + 1) % key.size()];
}

constexpr std::uint64_t RoundFunction(std::uint64_t half, std::uint64_t round_key) {
  return Mix64(half ^ round_key) & kHalfMask;
}

// One pass of the Feistel network: a permutation of [0, 2^42).
std::uint64_t Encrypt(const CodeScrambler::Key& key, std::uint64_t x) {
  std::uint64_t left = (x >> kHalfBits) & kHalfMask;
  std::uint64_t right = x & kHalfMask;
  for (int round = 0; round < kRounds; ++round) {
    const std::uint64_t next = left ^ RoundFunction(right, RoundKey(key, round));
    left = right;
    right = next;
  }
  return (left << kHalfBits) | right;
}

std::uint64_t Decrypt(const CodeScrambler::Key& key, std::uint64_t x) {
  std::uint64_t left = (x >> kHalfBits) & kHalfMask;
  std::uint64_t right = x & kHalfMask;
  for (int round = kRounds - 1; round >= 0; --round) {
    const std::uint64_t prev = right ^ RoundFunction(left, RoundKey(key, round));
    right = left;
    left = prev;
  }
  return (left << kHalfBits) | right;
}

}  // namespace

// Cycle-walking: apply the 42-bit permutation until the result lands inside [0, kCodeSpace).
// Restricted to that range this is still a bijection, and it terminates because the cycle
// through an in-range value returns to it. kCodeSpace / 2^42 ~ 0.8, so ~1.25 passes on average.
std::uint64_t CodeScrambler::Scramble(std::uint64_t value) const {
  // Out-of-contract input is folded into range: a cycle lying wholly outside it would not end.
  std::uint64_t x = value % kCodeSpace;
  do {
    x = Encrypt(key_, x);
  } while (x >= kCodeSpace);
  return x;
}

std::uint64_t CodeScrambler::Unscramble(std::uint64_t value) const {
  std::uint64_t x = value % kCodeSpace;
  do {
    x = Decrypt(key_, x);
  } while (x >= kCodeSpace);
  return x;
}

}  // namespace kurz::core
