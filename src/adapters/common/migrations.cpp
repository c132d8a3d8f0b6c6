#include "adapters/common/migrations.hpp"

#include <string>

namespace kurz::adapters {

core::Result<void> CheckSchemaNotNewer(std::string_view engine, int current,
                                       std::span<const Migration> migrations) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current <= latest) return {};
  return core::Fail(core::ErrorCode::kInternal,
                    std::string(engine) + ": database schema version " + std::to_string(current) +
                        " is newer than this kurz knows (" + std::to_string(latest) + ")");
}

core::Error MigrationFailed(std::string_view engine, const Migration& migration,
                            const core::Error& error) {
  return core::Error{error.code, std::string(engine) + ": migration " +
                                     std::to_string(migration.version) + " (" + migration.name +
                                     "): " + error.detail};
}

}  // namespace kurz::adapters
