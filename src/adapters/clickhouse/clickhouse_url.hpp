#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::adapters::clickhouse {

// Where the raw clicks live: ClickHouse's HTTP interface and the database holding `clicks`.
struct ClickHouseUrl {
  std::string host;
  std::uint16_t port = 8123;
  std::string database;
  bool operator==(const ClickHouseUrl&) const = default;
};

// Strict "clickhouse://host:port/database" (host a name, an IPv4 address or [IPv6]; port
// 1-65535; database [A-Za-z0-9_]+). No credentials, query or fragment: the server's default user
// is used. invalid_argument naming the offending part otherwise.
core::Result<ClickHouseUrl> ParseClickHouseUrl(std::string_view text);

// "clickhouse://host:port/database".
std::string ToString(const ClickHouseUrl& url);

}  // namespace kurz::adapters::clickhouse
