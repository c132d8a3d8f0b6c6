#pragma once

#include "core/guard.hpp"

namespace kurz::adapters::sqlite {

// core::Guarded for this adapter's port methods.
template <class Fn>
auto Guard(Fn&& fn) noexcept -> decltype(fn()) {
  return core::Guarded("sqlite store", static_cast<Fn&&>(fn));
}

}  // namespace kurz::adapters::sqlite
