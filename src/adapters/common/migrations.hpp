#pragma once

#include <span>
#include <string_view>

#include "core/error.hpp"

namespace kurz::adapters {

// One step of a schema, applied once and recorded in schema_migrations. Steps are never edited
// once released: a change to the schema is a new step at the end.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// The checks and messages of the SQL adapters' migration runners; `engine` ("sqlite",
// "postgres") starts each message.

// internal when the database's schema `current` is newer than the last of `migrations`.
core::Result<void> CheckSchemaNotNewer(std::string_view engine, int current,
                                       std::span<const Migration> migrations);

// The error of a step that failed, naming it.
core::Error MigrationFailed(std::string_view engine, const Migration& migration,
                            const core::Error& error);

}  // namespace kurz::adapters
