#include "adapters/geoip/maxmind_locator.hpp"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kurz::adapters::geoip {
namespace {

// ::ffff:a.b.c.d, the form kurz stores IPv4 clients in.
bool IsIpv4Mapped(const std::array<std::uint8_t, 16>& ip) {
  return std::all_of(ip.begin(), ip.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
         ip[10] == 0xff && ip[11] == 0xff;
}

// The UTF-8 string at `path` in `entry` as a view into the mapped database, or empty when it is
// missing or not a string.
std::string_view StringAt(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return {};
  }
  return {data.utf8_string, data.data_size};
}

bool IsCountryCode(std::string_view code) {
  return code.size() == 2 && std::ranges::all_of(code, [](char c) { return c >= 'A' && c <= 'Z'; });
}

// country.iso_code, else registered_country.iso_code; "" when neither is a country code.
std::string_view CountryOf(MMDB_entry_s& entry) {
  static constexpr const char* kCountry[] = {"country", "iso_code", nullptr};
  static constexpr const char* kRegisteredCountry[] = {"registered_country", "iso_code", nullptr};
  std::string_view country = StringAt(entry, kCountry);
  if (!IsCountryCode(country)) country = StringAt(entry, kRegisteredCountry);
  return IsCountryCode(country) ? country : std::string_view();
}

}  // namespace

core::Result<std::unique_ptr<MaxMindLocator>> MaxMindLocator::Open(const std::string& mmdb_path) {
  auto db = std::make_unique<MMDB_s>();
  errno = 0;
  const int status = MMDB_open(mmdb_path.c_str(), MMDB_MODE_MMAP, db.get());
  if (status != MMDB_SUCCESS) {
    const int open_errno = errno;
    std::string detail = "cannot open GeoIP database '" + mmdb_path + "': " + MMDB_strerror(status);
    if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && open_errno != 0) {
      detail += std::string(" (") + std::strerror(open_errno) + ")";
    }
    const bool missing = status == MMDB_FILE_OPEN_ERROR && open_errno == ENOENT;
    return core::Fail(missing ? core::ErrorCode::kNotFound : core::ErrorCode::kInvalidArgument,
                      std::move(detail));
  }
  return std::unique_ptr<MaxMindLocator>(new MaxMindLocator(std::move(db)));
}

MaxMindLocator::MaxMindLocator(std::unique_ptr<MMDB_s> db) : db_(std::move(db)) {}

MaxMindLocator::~MaxMindLocator() { MMDB_close(db_.get()); }

namespace {
// The database's entry for ip; nullopt when it has none (or cannot look the address up).
std::optional<MMDB_lookup_result_s> Lookup(MMDB_s* db, const std::array<std::uint8_t, 16>& ip) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  const sockaddr* address = nullptr;
  if (IsIpv4Mapped(ip)) {
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, ip.data() + 12, 4);
    address = reinterpret_cast<const sockaddr*>(&v4);
  } else {
    v6.sin6_family = AF_INET6;
    std::memcpy(&v6.sin6_addr, ip.data(), 16);
    address = reinterpret_cast<const sockaddr*>(&v6);
  }
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result = MMDB_lookup_sockaddr(db, address, &mmdb_error);
  // An IPv6 address in an IPv4-only database is an error here, not a miss; both mean unknown.
  if (mmdb_error != MMDB_SUCCESS || !result.found_entry) return std::nullopt;
  return result;
}
}  // namespace

std::string_view MaxMindLocator::CountryCode(const std::array<std::uint8_t, 16>& ip) const {
  auto result = Lookup(db_.get(), ip);
  return result ? CountryOf(result->entry) : std::string_view();
}

ports::GeoInfo MaxMindLocator::Locate(const std::array<std::uint8_t, 16>& ip) const {
  ports::GeoInfo info;
  auto result = Lookup(db_.get(), ip);
  if (!result) return info;
  static constexpr const char* kCity[] = {"city", "names", "en", nullptr};
  if (const std::string_view country = CountryOf(result->entry); !country.empty()) {
    info.country = std::string(country);
  }
  info.city = std::string(StringAt(result->entry, kCity));
  return info;
}

}  // namespace kurz::adapters::geoip
