#pragma once

#include <span>

#include "adapters/common/migrations.hpp"

namespace kurz::adapters::postgres {

using Migration = adapters::Migration;

// All steps, in ascending version order (1, 2, ...). They mirror the SQLite adapter's steps.
std::span<const Migration> Migrations();

}  // namespace kurz::adapters::postgres
