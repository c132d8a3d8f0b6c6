#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "core/code_scrambler.hpp"
#include "core/error.hpp"
#include "ports/link_store.hpp"

namespace kurz::service {

// Hands out generated short codes: counter values leased from the store in blocks (so instances
// never coordinate per link and a restart never reuses a value), scrambled by a keyed bijection
// and written as 7 base62 characters.
class CodeAllocator {
 public:
  CodeAllocator(ports::LinkStore& store, core::CodeScrambler scrambler, std::uint64_t block_size);

  // A code no earlier call (in this or any process on the same store) has returned.
  core::Result<std::string> Next();

 private:
  ports::LinkStore& store_;
  core::CodeScrambler scrambler_;
  std::uint64_t block_size_;
  std::mutex mutex_;
  std::uint64_t next_ = 0;
  std::uint64_t end_ = 0;  // next_ == end_: lease a new block
};

}  // namespace kurz::service
