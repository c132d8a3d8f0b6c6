#include "adapters/redis/shared_cache.hpp"

#include <charconv>
#include <cstdint>

#include "adapters/redis/guard.hpp"
#include "adapters/redis/options_codec.hpp"

namespace kurz::adapters::redis {
namespace {

using core::LinkState;

// Record: "1 <state> <status> <expires_at> <owner_id> <location>" where state is r (active: a
// redirect), n (not found) or g (gone). The leading digit is the format's version; the location
// comes last so it may hold any byte. A link with options is written as version 2:
// "2 <state> <status> <expires_at> <owner_id> <options bytes> <options JSON><location>"
// (options_codec.hpp). Plain links keep writing version 1, so instances that read only version 1
// go on reading them during a rolling upgrade, and treat version 2 records as misses.
constexpr char kVersion = '1';
constexpr char kVersionWithOptions = '2';

char StateChar(LinkState state) {
  switch (state) {
    case LinkState::kActive:
      return 'r';
    case LinkState::kGone:
      return 'g';
    case LinkState::kNotFound:
      break;
  }
  return 'n';
}

bool IsRedirectStatus(std::uint16_t status) {
  switch (static_cast<core::RedirectType>(status)) {
    case core::RedirectType::k301:
    case core::RedirectType::k302:
    case core::RedirectType::k307:
    case core::RedirectType::k308:
      return true;
  }
  return false;
}

// Reads a decimal number followed by a space from the front of text.
template <class T>
bool TakeNumber(std::string_view& text, T& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() + text.size() || *end != ' ') return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()) + 1);
  return true;
}

core::Error Unexpected(const Reply& reply, std::string_view what) {
  return core::Error{core::ErrorCode::kInternal,
                     "redis " + std::string(what) + ": " +
                         (reply.IsError() ? reply.str : std::string("unexpected reply"))};
}

}  // namespace

RedisSharedCache::RedisSharedCache(RedisClient& client, std::string key_prefix)
    : client_(client), key_prefix_(std::move(key_prefix)) {}

std::string RedisSharedCache::KeyOf(std::string_view code) const {
  std::string key = key_prefix_;
  key += "link:";
  key += code;
  return key;
}

std::string RedisSharedCache::Encode(const ports::CachedRedirect& value) {
  std::string options;
  if (value.options != nullptr) options = EncodeOptions(*value.options);
  std::string record;
  record.reserve(48 + value.location.size() + options.size());
  record += value.options != nullptr ? kVersionWithOptions : kVersion;
  record += ' ';
  record += StateChar(value.state);
  record += ' ';
  record += std::to_string(static_cast<std::uint16_t>(value.status));
  record += ' ';
  record += std::to_string(value.expires_at);
  record += ' ';
  record += std::to_string(value.owner_id);
  record += ' ';
  if (value.options != nullptr) {
    record += std::to_string(options.size());
    record += ' ';
    record += options;
  }
  record += value.location;
  return record;
}

std::optional<ports::CachedRedirect> RedisSharedCache::Decode(std::string_view record) {
  if (record.size() < 4 || (record[0] != kVersion && record[0] != kVersionWithOptions) ||
      record[1] != ' ' || record[3] != ' ') {
    return std::nullopt;
  }
  const bool with_options = record[0] == kVersionWithOptions;
  ports::CachedRedirect value;
  switch (record[2]) {
    case 'r':
      value.state = LinkState::kActive;
      break;
    case 'n':
      value.state = LinkState::kNotFound;
      break;
    case 'g':
      value.state = LinkState::kGone;
      break;
    default:
      return std::nullopt;
  }
  record.remove_prefix(4);
  std::uint16_t status = 0;
  if (!TakeNumber(record, status) || !TakeNumber(record, value.expires_at) ||
      !TakeNumber(record, value.owner_id) || !IsRedirectStatus(status)) {
    return std::nullopt;
  }
  value.status = static_cast<core::RedirectType>(status);
  if (with_options) {
    std::size_t size = 0;
    if (!TakeNumber(record, size) || size > record.size()) return std::nullopt;
    value.options = DecodeOptions(record.substr(0, size));
    if (value.options == nullptr) return std::nullopt;
    record.remove_prefix(size);
  }
  value.location = std::string(record);
  return value;
}

Result<std::optional<ports::CachedRedirect>> RedisSharedCache::Get(std::string_view code) {
  return Guard([&]() -> Result<std::optional<ports::CachedRedirect>> {
    const std::string key = KeyOf(code);
    const std::string_view args[] = {"GET", key};
    auto reply = client_.Command(key, args);
    if (!reply) return std::unexpected(reply.error());
    if (reply->type == Reply::Type::kNil) return std::nullopt;
    if (reply->type != Reply::Type::kString) return std::unexpected(Unexpected(*reply, "GET"));
    auto value = Decode(reply->str);
    if (!value) {
      return core::Fail(core::ErrorCode::kInternal,
                        "redis GET " + key + ": not a cache record of this version");
    }
    return value;
  });
}

Result<void> RedisSharedCache::Put(std::string_view code, const ports::CachedRedirect& value,
                                   core::Micros ttl) {
  if (ttl <= 0) return core::Fail(core::ErrorCode::kInvalidArgument, "cache TTL must be > 0");
  return Guard([&]() -> Result<void> {
    const std::string key = KeyOf(code);
    const std::string record = Encode(value);
    const std::string millis = std::to_string((ttl + 999) / 1000);
    const std::string_view args[] = {"SET", key, record, "PX", millis};
    auto reply = client_.Command(key, args);
    if (!reply) return std::unexpected(reply.error());
    if (reply->type != Reply::Type::kStatus) return std::unexpected(Unexpected(*reply, "SET"));
    return {};
  });
}

Result<bool> RedisSharedCache::PutIfAbsent(std::string_view code,
                                           const ports::CachedRedirect& value, core::Micros ttl) {
  if (ttl <= 0) return core::Fail(core::ErrorCode::kInvalidArgument, "cache TTL must be > 0");
  return Guard([&]() -> Result<bool> {
    const std::string key = KeyOf(code);
    const std::string record = Encode(value);
    const std::string millis = std::to_string((ttl + 999) / 1000);
    const std::string_view args[] = {"SET", key, record, "PX", millis, "NX"};
    auto reply = client_.Command(key, args);
    if (!reply) return std::unexpected(reply.error());
    if (reply->type == Reply::Type::kStatus) return true;  // OK: stored
    if (reply->type == Reply::Type::kNil) return false;    // an entry was there
    return std::unexpected(Unexpected(*reply, "SET NX"));
  });
}

Result<void> RedisSharedCache::Remove(std::string_view code) {
  return Guard([&]() -> Result<void> {
    const std::string key = KeyOf(code);
    const std::string_view args[] = {"DEL", key};
    auto reply = client_.Command(key, args);
    if (!reply) return std::unexpected(reply.error());
    if (reply->type != Reply::Type::kInteger) return std::unexpected(Unexpected(*reply, "DEL"));
    return {};
  });
}

}  // namespace kurz::adapters::redis
