#pragma once

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::core {

// Runs fn and turns any exception (in practice std::bad_alloc) into an internal error naming
// `what` (e.g. "sqlite store"), so that no exception crosses a port. Adapters wrap every port
// method in it.
template <class Fn>
auto Guarded(std::string_view what, Fn&& fn) noexcept -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Fail(ErrorCode::kInternal, "out of memory");
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string(what) + ": " + e.what());
  } catch (...) {
    return Fail(ErrorCode::kInternal, std::string(what) + ": unknown exception");
  }
}

}  // namespace kurz::core
