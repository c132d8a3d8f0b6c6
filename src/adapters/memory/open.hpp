#pragma once

#include <string_view>

#include "adapters/common/open.hpp"

namespace kurz::adapters::memory {

// memory:// as a database: empty stores in this process, nothing kept after exit (demos, tests).
core::Result<Database> OpenDatabase(std::string_view url, const DatabaseOptions& options);

// memory:// as --cache: no shared tier (one instance: its own L1 is enough).
core::Result<SharedTier> OpenSharedTier(std::string_view url, const CacheOptions& options);

}  // namespace kurz::adapters::memory
