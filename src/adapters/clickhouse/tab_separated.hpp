#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

// ClickHouse's text encodings: TabSeparated fields (insert bodies, query results) and quoted
// string literals in SQL. Every byte value round-trips, invalid UTF-8 included.
namespace kurz::adapters::clickhouse {

// Appends value as one TabSeparated field: backslash, tab, newline, carriage return, NUL,
// backspace and form feed escaped with a backslash, every other byte as it is.
void AppendTsvField(std::string& out, std::string_view value);

// Appends value as a single-quoted SQL string literal (quote and backslash escaped, and the
// control characters AppendTsvField escapes).
void AppendSqlString(std::string& out, std::string_view value);
std::string SqlString(std::string_view value);

// Splits a TabSeparated result into rows of unescaped fields. Every row must have `columns`
// fields; internal error otherwise (an answer this adapter did not ask for).
core::Result<std::vector<std::vector<std::string>>> ParseTabSeparated(std::string_view text,
                                                                      std::size_t columns);

}  // namespace kurz::adapters::clickhouse
