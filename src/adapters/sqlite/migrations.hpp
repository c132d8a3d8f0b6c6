#pragma once

#include <span>

#include "adapters/common/migrations.hpp"

namespace kurz::adapters::sqlite {

using Migration = adapters::Migration;

// All steps, in ascending version order (1, 2, ...).
std::span<const Migration> Migrations();

}  // namespace kurz::adapters::sqlite
