#pragma once

#include <memory>
#include <string_view>

#include "adapters/common/open.hpp"

namespace kurz::adapters::clickhouse {

// The raw clicks table at clickhouse://host:port/database (the HTTP interface); not contacted
// yet. invalid_argument for a bad URL.
core::Result<std::unique_ptr<ports::RawClickStore>> Open(std::string_view url);

}  // namespace kurz::adapters::clickhouse
