#pragma once

#include <string_view>

#include "adapters/common/open.hpp"

namespace kurz::adapters::sqlite {

// Opens sqlite:///abs/path.db or sqlite://relative/path.db: creates the file's directory, runs
// the migrations when options.migrate is set. invalid_argument without a path, unavailable when
// the directory or file cannot be made.
core::Result<Database> Open(std::string_view url, const DatabaseOptions& options);

}  // namespace kurz::adapters::sqlite
