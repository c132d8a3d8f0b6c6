#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kurz::core {

// A string of at most N bytes stored inline: no allocation, trivially copyable, so it can sit in
// preallocated rings and cache slots. Longer input is truncated (callers decide if that is ok).
template <std::size_t N>
class FixedString {
  static_assert(N < 65536);

 public:
  FixedString() = default;
  explicit FixedString(std::string_view s) { Assign(s); }

  // Copies up to N bytes of s; returns false when s was truncated.
  bool Assign(std::string_view s) {
    size_ = static_cast<std::uint16_t>(std::min(s.size(), N));
    s.copy(data_, size_);
    return size_ == s.size();
  }
  std::string_view view() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  static constexpr std::size_t capacity() { return N; }

  friend bool operator==(const FixedString& a, const FixedString& b) {
    return a.view() == b.view();
  }

 private:
  char data_[N];
  std::uint16_t size_ = 0;
};

}  // namespace kurz::core
