#pragma once

#include "core/guard.hpp"

namespace kurz::adapters::postgres {

// core::Guarded for this adapter's port methods.
template <class Fn>
auto Guard(Fn&& fn) noexcept -> decltype(fn()) {
  return core::Guarded("postgres store", static_cast<Fn&&>(fn));
}

}  // namespace kurz::adapters::postgres
