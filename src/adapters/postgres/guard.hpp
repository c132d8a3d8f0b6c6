#pragma once

#include <exception>
#include <new>
#include <string>

#include "core/error.hpp"

namespace kurz::adapters::postgres {

// Runs fn and turns any exception (in practice std::bad_alloc) into an internal error, so that no
// exception crosses a port.
template <class Fn>
auto Guard(Fn&& fn) noexcept -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return core::Fail(core::ErrorCode::kInternal, "out of memory");
  } catch (const std::exception& e) {
    return core::Fail(core::ErrorCode::kInternal, std::string("postgres store: ") + e.what());
  } catch (...) {
    return core::Fail(core::ErrorCode::kInternal, "postgres store: unknown exception");
  }
}

}  // namespace kurz::adapters::postgres
