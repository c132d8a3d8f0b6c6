#pragma once

#include <span>

namespace kurz::adapters::sqlite {

// One step of the schema, applied once and recorded in schema_migrations. Steps are never edited
// once released: a change to the schema is a new step at the end.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// All steps, in ascending version order (1, 2, ...).
std::span<const Migration> Migrations();

}  // namespace kurz::adapters::sqlite
