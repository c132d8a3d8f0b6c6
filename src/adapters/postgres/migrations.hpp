#pragma once

#include <span>

namespace kurz::adapters::postgres {

// One step of the schema, applied once (in its own transaction) and recorded in
// schema_migrations. Steps are never edited once released: a change is a new step at the end.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// All steps, in ascending version order (1, 2, ...). They mirror the SQLite adapter's steps.
std::span<const Migration> Migrations();

}  // namespace kurz::adapters::postgres
