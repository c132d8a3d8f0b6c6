#pragma once

#include <string_view>

#include "adapters/common/open.hpp"

namespace kurz::adapters::redis {

// Opens redis://host:port[/db] or redis-cluster://h1:p1,h2:p2,...: the shared cache, the
// invalidation bus, the API rate limits and the real-time counters, with keys and channels under
// options.name_space. Does not connect: Redis may come up later (calls fail fast until then, and
// everything works without it). invalid_argument for a bad URL.
core::Result<SharedTier> Open(std::string_view url, const CacheOptions& options);

}  // namespace kurz::adapters::redis
