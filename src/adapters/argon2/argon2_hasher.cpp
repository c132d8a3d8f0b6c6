#include "adapters/argon2/argon2_hasher.hpp"

#include <argon2.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <optional>

#include "core/guard.hpp"

namespace kurz::adapters::argon2 {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kTagBytes = 32;
constexpr std::string_view kPrefix = "$argon2id$v=19$";

// The m, t and p of an encoded argon2id string ("$argon2id$v=19$m=M,t=T,p=P$salt$tag"), or
// nullopt when it does not start that way. libargon2 checks the rest (base64, lengths) itself.
std::optional<Argon2Params> ReadParams(std::string_view encoded) {
  if (!encoded.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = encoded.substr(kPrefix.size());
  Argon2Params params;
  const std::pair<std::string_view, std::uint32_t*> fields[] = {
      {"m=", &params.memory_kib}, {"t=", &params.passes}, {"p=", &params.lanes}};
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    const auto& [name, out] = fields[i];
    if (!rest.starts_with(name)) return std::nullopt;
    rest.remove_prefix(name.size());
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), *out);
    if (ec != std::errc() || end == rest.data()) return std::nullopt;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    const char separator = i + 1 < std::size(fields) ? ',' : '$';
    if (rest.empty() || rest.front() != separator) return std::nullopt;
    rest.remove_prefix(1);
  }
  return params;
}

}  // namespace

Argon2Hasher::Argon2Hasher(Argon2Params params) : params_(params) {}

Result<std::string> Argon2Hasher::Hash(std::string_view password) {
  return core::Guarded("argon2", [&]() -> Result<std::string> {
    std::array<unsigned char, kSaltBytes> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
      return core::Fail(core::ErrorCode::kInternal, "argon2: the random generator failed");
    }
    std::string encoded(argon2_encodedlen(params_.passes, params_.memory_kib, params_.lanes,
                                          kSaltBytes, kTagBytes, Argon2_id),
                        '\0');
    const int rc = argon2id_hash_encoded(params_.passes, params_.memory_kib, params_.lanes,
                                         password.data(), password.size(), salt.data(), salt.size(),
                                         kTagBytes, encoded.data(), encoded.size());
    if (rc != ARGON2_OK) {
      return core::Fail(core::ErrorCode::kInternal,
                        std::string("argon2: ") + argon2_error_message(rc));
    }
    encoded.resize(encoded.find('\0'));  // argon2_encodedlen counts the terminator, and more
    return encoded;
  });
}

Result<bool> Argon2Hasher::Verify(std::string_view encoded, std::string_view password) {
  return core::Guarded("argon2", [&]() -> Result<bool> {
    const std::optional<Argon2Params> params = ReadParams(encoded);
    if (!params) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "not an argon2id (v=19) hash");
    }
    if (params->memory_kib > kMaxMemoryKib || params->passes > kMaxPasses ||
        params->lanes > kMaxLanes) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "argon2id hash with parameters beyond this server's bounds");
    }
    const std::string terminated(encoded);  // the C API reads a NUL-terminated string
    if (terminated.find('\0') != std::string::npos) {
      return core::Fail(core::ErrorCode::kInvalidArgument, "argon2id hash with a NUL byte");
    }
    const int rc = argon2id_verify(terminated.c_str(), password.data(), password.size());
    switch (rc) {
      case ARGON2_OK:
        return true;
      case ARGON2_VERIFY_MISMATCH:
        return false;
      case ARGON2_MEMORY_ALLOCATION_ERROR:
      case ARGON2_THREAD_FAIL:
        return core::Fail(core::ErrorCode::kInternal,
                          std::string("argon2: ") + argon2_error_message(rc));
      default:  // decoding and parameter errors: the string is not a hash we can read
        return core::Fail(core::ErrorCode::kInvalidArgument,
                          std::string("unreadable argon2id hash: ") + argon2_error_message(rc));
    }
  });
}

}  // namespace kurz::adapters::argon2
