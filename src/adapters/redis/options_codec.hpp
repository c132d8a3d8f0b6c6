#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/redirect.hpp"

namespace kurz::adapters::redis {

// The options block of a shared-cache record (version 2): core::LinkOptions as compact JSON,
// times in microseconds. Decode answers null for anything it cannot read (the caller treats the
// record as a miss).
std::string EncodeOptions(const core::LinkOptions& options);
std::shared_ptr<const core::LinkOptions> DecodeOptions(std::string_view json);

}  // namespace kurz::adapters::redis
